/**
 * The order in which torch 1.13's CPU kernels put equal scores, reproduced: `torch.sort(descending=True)` (unstable,
 * the default that torchvision's nms kernel and batched_nms use) is libstdc++'s `std::sort` over (value, index)
 * pairs with `KeyValueCompDesc` (aten/src/ATen/native/cpu/SortingKernel.cpp), and `torch.topk(k)` is
 * `std::nth_element` + `std::sort` of the first k - 1 pairs, or `std::partial_sort` when k * 64 <= n
 * (aten/src/ATen/native/TopKImpl.h). Both compare values only: `a` goes first when a is NaN and b is not, or a > b.
 * Neither is stable, so which of two equal scores comes first (and which of two equal overlapping boxes survives
 * NMS) is decided by these exact algorithms: introsort (threshold 16, median of three moved to the front, unguarded
 * partition, depth limit 2 * floor(log2 n), heapsort fallback, final insertion sort) and introselect.
 *
 * Every function permutes `order`, an array of indices into `keys`, in place: moving the index moves the pair.
 */

type Keys = ArrayLike<number>;

/** Whether key a goes before key b in a descending torch order (NaN first). */
const goesBefore = (a: number, b: number): boolean => (Number.isNaN(a) && !Number.isNaN(b)) || a > b;

const THRESHOLD = 16;
const lg = (n: number): number => 31 - Math.clz32(n);
/** C++'s integer division by 2 (truncates toward zero, as (hole - 1) / 2 does at hole 0). */
const half = (n: number): number => Math.trunc(n / 2);

function swap(order: Int32Array, i: number, j: number): void {
  const t = order[i] as number;
  order[i] = order[j] as number;
  order[j] = t;
}

function before(keys: Keys, order: Int32Array, i: number, j: number): boolean {
  return goesBefore(keys[order[i] as number] as number, keys[order[j] as number] as number);
}

function moveMedianToFirst(keys: Keys, order: Int32Array, result: number, a: number, b: number, c: number): void {
  if (before(keys, order, a, b)) {
    if (before(keys, order, b, c)) swap(order, result, b);
    else if (before(keys, order, a, c)) swap(order, result, c);
    else swap(order, result, a);
  } else if (before(keys, order, a, c)) swap(order, result, a);
  else if (before(keys, order, b, c)) swap(order, result, c);
  else swap(order, result, b);
}

function unguardedPartition(keys: Keys, order: Int32Array, first: number, last: number, pivot: number): number {
  for (;;) {
    while (before(keys, order, first, pivot)) first++;
    last--;
    while (before(keys, order, pivot, last)) last--;
    if (!(first < last)) return first;
    swap(order, first, last);
    first++;
  }
}

function unguardedPartitionPivot(keys: Keys, order: Int32Array, first: number, last: number): number {
  const mid = first + ((last - first) >> 1);
  moveMedianToFirst(keys, order, first, first + 1, mid, last - 1);
  return unguardedPartition(keys, order, first + 1, last, first);
}

function unguardedLinearInsert(keys: Keys, order: Int32Array, last: number): void {
  const val = order[last] as number;
  const key = keys[val] as number;
  let next = last - 1;
  while (goesBefore(key, keys[order[next] as number] as number)) {
    order[last] = order[next] as number;
    last = next;
    next--;
  }
  order[last] = val;
}

function insertionSort(keys: Keys, order: Int32Array, first: number, last: number): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (before(keys, order, i, first)) {
      const val = order[i] as number;
      order.copyWithin(first + 1, first, i);
      order[first] = val;
    } else unguardedLinearInsert(keys, order, i);
  }
}

function finalInsertionSort(keys: Keys, order: Int32Array, first: number, last: number): void {
  if (last - first > THRESHOLD) {
    insertionSort(keys, order, first, first + THRESHOLD);
    for (let i = first + THRESHOLD; i < last; i++) unguardedLinearInsert(keys, order, i);
  } else insertionSort(keys, order, first, last);
}

// ------------------------------------------------------------------------------------------- heaps (stl_heap.h)

function pushHeap(keys: Keys, order: Int32Array, first: number, hole: number, top: number, value: number): void {
  const key = keys[value] as number;
  let parent = half(hole - 1);
  while (hole > top && goesBefore(keys[order[first + parent] as number] as number, key)) {
    order[first + hole] = order[first + parent] as number;
    hole = parent;
    parent = half(hole - 1);
  }
  order[first + hole] = value;
}

function adjustHeap(keys: Keys, order: Int32Array, first: number, hole: number, len: number, value: number): void {
  const top = hole;
  let second = hole;
  while (second < half(len - 1)) {
    second = 2 * (second + 1);
    if (before(keys, order, first + second, first + second - 1)) second--;
    order[first + hole] = order[first + second] as number;
    hole = second;
  }
  if ((len & 1) === 0 && second === half(len - 2)) {
    second = 2 * (second + 1);
    order[first + hole] = order[first + second - 1] as number;
    hole = second - 1;
  }
  pushHeap(keys, order, first, hole, top, value);
}

function makeHeap(keys: Keys, order: Int32Array, first: number, last: number): void {
  const len = last - first;
  if (len < 2) return;
  for (let parent = half(len - 2); ; parent--) {
    adjustHeap(keys, order, first, parent, len, order[first + parent] as number);
    if (parent === 0) return;
  }
}

function popHeap(keys: Keys, order: Int32Array, first: number, last: number, result: number): void {
  const value = order[result] as number;
  order[result] = order[first] as number;
  adjustHeap(keys, order, first, 0, last - first, value);
}

function heapSelect(keys: Keys, order: Int32Array, first: number, middle: number, last: number): void {
  makeHeap(keys, order, first, middle);
  for (let i = middle; i < last; i++) if (before(keys, order, i, first)) popHeap(keys, order, first, middle, i);
}

function sortHeap(keys: Keys, order: Int32Array, first: number, last: number): void {
  while (last - first > 1) {
    last--;
    popHeap(keys, order, first, last, last);
  }
}

/** libstdc++'s `std::partial_sort(first, middle, last)`. */
function partialSort(keys: Keys, order: Int32Array, first: number, middle: number, last: number): void {
  heapSelect(keys, order, first, middle, last);
  sortHeap(keys, order, first, middle);
}

// ------------------------------------------------------------------------------------------- sort and select

function introsortLoop(keys: Keys, order: Int32Array, first: number, last: number, depth: number): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      partialSort(keys, order, first, last, last);
      return;
    }
    depth--;
    const cut = unguardedPartitionPivot(keys, order, first, last);
    introsortLoop(keys, order, cut, last, depth);
    last = cut;
  }
}

/** libstdc++'s `std::sort` of order[first, last) by keys, descending, NaN first: torch.sort(descending=True). */
export function torchSortRange(keys: Keys, order: Int32Array, first: number, last: number): void {
  if (last - first < 2) return;
  introsortLoop(keys, order, first, last, lg(last - first) * 2);
  finalInsertionSort(keys, order, first, last);
}

/** libstdc++'s `std::nth_element(first, nth, last)` by keys, descending, NaN first. */
function nthElement(keys: Keys, order: Int32Array, first: number, nth: number, last: number): void {
  if (first === last || nth === last) return;
  let depth = lg(last - first) * 2;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(keys, order, first, nth + 1, last);
      swap(order, first, nth);
      return;
    }
    depth--;
    const cut = unguardedPartitionPivot(keys, order, first, last);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(keys, order, first, last);
}

/**
 * `torch.sort(values, descending=True)[1]` for the first `count` keys: fills order[0, count) with 0..count-1 and
 * sorts it in torch's order (equal keys included). Returns order.
 */
export function torchSortDescending(keys: Keys, count = keys.length, order = new Int32Array(count)): Int32Array {
  for (let i = 0; i < count; i++) order[i] = i;
  torchSortRange(keys, order, 0, count);
  return order;
}

/**
 * `torch.topk(values[order[0..count)], k)` (largest, sorted) in place: afterwards order[0, k) holds the entries of
 * the k largest keys in torch's order, NaN counted largest. The entries are whatever order held: indices into keys.
 */
export function torchTopk(keys: Keys, order: Int32Array, count: number, k: number): void {
  if (k <= 0 || count === 0) return;
  if (k * 64 <= count) partialSort(keys, order, 0, k, count);
  else {
    nthElement(keys, order, 0, k - 1, count);
    torchSortRange(keys, order, 0, k - 1);
  }
}

/**
 * `std::stable_sort` of order[first, last) by keys, descending, NaN first: `sort(stable=True, descending=True)`,
 * which torchvision 0.14's CPU nms kernel uses (equal scores keep their index order). A bottom-up merge sort;
 * the result is unique, so any stable algorithm gives libstdc++'s.
 */
export function torchStableSortRange(keys: Keys, order: Int32Array, first: number, last: number): void {
  const n = last - first;
  if (n < 2) return;
  const runs: Int32Array = order.subarray(first, last);
  let src: Int32Array = runs;
  let dst: Int32Array = new Int32Array(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let a = lo;
      let b = mid;
      let o = lo;
      while (a < mid && b < hi) {
        // take from the right run only when it goes strictly before: ties keep the left (earlier) entry first
        if (goesBefore(keys[src[b] as number] as number, keys[src[a] as number] as number))
          dst[o++] = src[b++] as number;
        else dst[o++] = src[a++] as number;
      }
      while (a < mid) dst[o++] = src[a++] as number;
      while (b < hi) dst[o++] = src[b++] as number;
    }
    [src, dst] = [dst, src];
  }
  if (src !== runs) runs.set(src);
}
