import {
  type Analysis,
  TIMM_TAGS,
  TORCHVISION_DEFAULTS,
  TORCHVISION_WEIGHTS,
  allFamilies,
  familyOf,
  formatAnalysis,
  isArch,
} from '@mobilenet/core';
import { availableBackends } from '@mobilenet/runtime-web';
import { type ModelChoice, benchmark, classify, logitsFor, prepare, provenanceLine } from './app.js';
import './dense-ui.js';
import { initTeach, teachApi } from './teach-mode.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
// Photographs from scikit-image's sample data, public domain or CC0 (public/samples/ATTRIBUTION.md).
const SAMPLES = ['samples/chelsea.jpg', 'samples/coffee.jpg', 'samples/astronaut.jpg', 'samples/rocket.jpg'];
let image: Blob | undefined;
let imageName = '';
let busy = Promise.resolve();

/** The architecture <select>, from the registry: one group per family, titled with its help. */
function fillArchs(select: HTMLSelectElement): void {
  for (const f of allFamilies()) {
    const group = document.createElement('optgroup');
    group.label = f.name;
    group.title = f.help;
    for (const arch of f.archs) group.append(new Option(arch, arch, false, arch === select.dataset.default));
    select.append(group);
  }
}

/** The pretrained names the page can build: torchvision's classification weights and timm's tags. */
function fillPretrained(list: HTMLDataListElement): void {
  for (const w of TORCHVISION_WEIGHTS.filter((x) => x.build)) {
    const name = `torchvision:${w.model}${TORCHVISION_DEFAULTS[w.model] === w.value ? '' : `.${w.value}`}`;
    list.append(new Option(`${w.build!.arch}, acc@1 ${w.metrics.values['acc@1']}, ${w.fileSizeMiB} MiB`, name));
  }
  for (const t of TIMM_TAGS) list.append(new Option(`acc@1 ${t.acc1}`, `hf-hub:timm/${t.name}`));
}

/** A new arch starts at its paper's input size (v4: 224 to 384), when the size list has it. */
function useDefaultResolution(): void {
  const arch = $<HTMLSelectElement>('arch').value;
  const size = String(familyOf(arch)?.resolution(arch));
  const select = $<HTMLSelectElement>('resolution');
  if ([...select.options].some((o) => o.value === size)) select.value = size;
}

function choice(): ModelChoice {
  const file = $<HTMLInputElement>('onnx').files?.[0];
  const weights = $<HTMLInputElement>('weights').files?.[0];
  const arch = $<HTMLSelectElement>('arch').value;
  if (!isArch(arch)) throw new Error(`unknown architecture '${arch}'`);
  const pretrained = $<HTMLInputElement>('pretrained').value.trim();
  const torchvisionUrl = $<HTMLInputElement>('torchvision-url').value.trim();
  const hfEndpoint = $<HTMLInputElement>('hf-endpoint').value.trim();
  return {
    ...(pretrained && { pretrained }),
    ...(torchvisionUrl && { torchvisionUrl }),
    ...(hfEndpoint && { hfEndpoint }),
    arch,
    width: Number($<HTMLSelectElement>('width').value),
    resolution: Number($<HTMLSelectElement>('resolution').value),
    backend: $<HTMLSelectElement>('backend').value as ModelChoice['backend'],
    seed: Number($<HTMLInputElement>('seed').value) || 0,
    ...(file && { file }),
    ...(weights && { weights }),
  };
}

function showError(message: string | null): void {
  const el = $('error');
  el.hidden = message === null;
  el.textContent = message ?? '';
}

function showLayers(a: Analysis | null): void {
  $('layer-table').textContent = '';
  if (!a) return;
  const pre = document.createElement('pre');
  pre.textContent = formatAnalysis(a);
  $('layer-table').append(pre);
}

/**
 * One of the top-5: its bar on an absolute 0-100% scale, so a 0.2% guess of a seeded model draws a sliver, not a
 * full bar (scaling to the top-1 made any top-1 look certain).
 */
function topRow(p: { index: number; label: string; probability: number }): HTMLLIElement {
  const li = document.createElement('li');
  li.innerHTML = `<span class="label"></span><span class="track"><span class="bar"></span></span><span class="p"></span>`;
  li.querySelector<HTMLElement>('.label')!.textContent = `${p.label} (${p.index})`;
  li.querySelector<HTMLElement>('.bar')!.style.width = `${100 * p.probability}%`;
  li.querySelector<HTMLElement>('.p')!.textContent = `${(100 * p.probability).toFixed(2)}%`;
  li.dataset.index = String(p.index);
  li.dataset.probability = String(p.probability);
  return li;
}

/** What a result is for: a test (or a curious user) can tell it from a result still on screen. */
function modelKey(c: ModelChoice): string {
  if (c.pretrained) return `${c.pretrained} ${c.backend}`;
  if (c.file) return c.file.name;
  return `${c.arch} ${c.width} ${c.resolution} ${c.backend} ${c.weights?.name ?? `seed ${c.seed}`}`;
}

/** Runs one classification at a time; the page stays usable and shows what went wrong. */
function run(): void {
  busy = busy.then(async () => {
    if (!image) return;
    showError(null);
    // A test (or a user) must not read an earlier run's 'done' or 'error' as this one's.
    document.body.dataset.state = 'busy';
    const c = choice();
    try {
      $('status').textContent =
        `${c.pretrained ? `Fetching ${c.pretrained}` : `Building ${c.file ? c.file.name : `${c.arch} ${c.width} at ${c.resolution}`}`} and classifying ${imageName}...`;
      const prepared = await prepare(c);
      showLayers(prepared.analysis);
      const r = await classify(c, image);
      $('status').textContent =
        `Backend used: ${r.backend}${r.fallbackReason ? ` (WebGPU unavailable: ${r.fallbackReason})` : ''}, ${prepared.session.wasm.threads} WASM thread(s).`;
      $('status').dataset.backend = r.backend;
      $('provenance').textContent = provenanceLine(r.provenance, r.backend, prepared.session.wasm.threads);
      $('provenance').dataset.trained = String(r.provenance.trained);
      $('top5').replaceChildren(...r.top.map(topRow));
      $('timings').innerHTML =
        `<tr><th>build + export</th><td>${r.timings.build.toFixed(0)} ms</td></tr><tr><th>session</th><td>${r.timings.session.toFixed(0)} ms</td></tr><tr><th>inference</th><td>${r.inference.toFixed(1)} ms</td></tr>`;
      // What this result is for: a test (or a curious user) can tell it from a result still on screen.
      document.body.dataset.model = modelKey(c);
      document.body.dataset.state = 'done';
    } catch (e) {
      showError((e as Error).message);
      // Results of an earlier image or model would read as this one's.
      $('provenance').textContent = '';
      $('top5').replaceChildren();
      $('status').textContent = 'Failed; pick another image or model.';
      document.body.dataset.model = modelKey(c);
      document.body.dataset.state = 'error';
    }
  });
}

function useImage(blob: Blob, name: string): void {
  image = blob;
  imageName = name;
  const preview = $<HTMLImageElement>('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  preview.hidden = false;
  window.dispatchEvent(new CustomEvent('demo:image', { detail: { blob, name } }));
  run();
}

fillArchs($<HTMLSelectElement>('arch'));
fillPretrained($<HTMLDataListElement>('pretrained-names'));
$('arch').addEventListener('change', useDefaultResolution);

for (const url of SAMPLES) {
  const b = document.createElement('button');
  b.innerHTML = `<img src="${url}" alt="${url}" />`;
  b.addEventListener('click', async () => useImage(await (await fetch(url)).blob(), url));
  $('samples').append(b);
}
$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) useImage(f, f.name);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) useImage(f, f.name);
});
for (const id of [
  'pretrained',
  'torchvision-url',
  'hf-endpoint',
  'arch',
  'width',
  'resolution',
  'backend',
  'seed',
  'onnx',
  'weights',
])
  $(id).addEventListener('change', run);

void availableBackends().then((list) => {
  $('backends').textContent =
    list.map((b) => `${b.backend}: ${b.available ? 'available' : `unavailable (${b.reason})`}`).join(' · ') +
    ` · cross-origin isolated: ${crossOriginIsolated}`;
});

// For the end-to-end test and for the curious: the same functions the page uses.
initTeach();
Object.assign(window, { demo: { prepare, classify, logitsFor, benchmark, availableBackends, teach: teachApi } });
