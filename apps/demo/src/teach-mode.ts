// Teach mode's page: name classes, add photos or webcam frames to each, train in a Web Worker (progress and
// validation accuracy shown), try the result live on photos or the webcam, download the .onnx file.
import type { Arch } from '@mobilenet/core';
import type { WebImage } from '@mobilenet/runtime-web';
import { type TeachBase, embedImages, teach, trainInWorker, tryTaught } from './teach.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  return e;
}

interface TeachClass {
  name: HTMLInputElement;
  images: WebImage[];
  count: HTMLSpanElement;
}

const classes: TeachClass[] = [];
let video: HTMLVideoElement | undefined;
let download: string | undefined;

/** The base the main form describes (architecture, width, resolution, seed, backend, pretrained name). */
function baseChoice(): TeachBase {
  const value = (id: string) => $<HTMLInputElement>(id).value;
  const pretrained = value('pretrained').trim();
  return {
    arch: value('arch') as Arch,
    width: Number(value('width')),
    resolution: Number(value('resolution')),
    seed: Number(value('seed')),
    backend: value('backend') as 'wasm' | 'webgpu',
    ...(pretrained && { pretrained }),
  };
}

async function webcamFrame(): Promise<ImageBitmap> {
  if (!video) {
    video = el('video', { autoplay: true, muted: true, playsInline: true, width: 160 });
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
    $('teach-webcam').append(video);
    await video.play();
  }
  return createImageBitmap(video);
}

function addClass(name = `class ${classes.length + 1}`): void {
  const row = el('div', { className: 'teach-class' });
  row.style.cssText = 'display: flex; gap: 0.5em; align-items: center; margin: 0.25em 0';
  const c: TeachClass = {
    name: el('input', { value: name, size: 16 }),
    images: [],
    count: el('span', { textContent: '0 images' }),
  };
  const files = el('input', { type: 'file', accept: 'image/*', multiple: true });
  files.addEventListener('change', () => {
    c.images.push(...(files.files ? [...files.files] : []));
    c.count.textContent = `${c.images.length} images`;
  });
  const frame = el('button', { textContent: 'webcam frame' });
  frame.addEventListener('click', async () => {
    c.images.push(await webcamFrame());
    c.count.textContent = `${c.images.length} images`;
  });
  row.append(c.name, files, frame, c.count);
  $('teach-classes').append(row);
  classes.push(c);
}

async function train(): Promise<void> {
  const status = $('teach-status');
  try {
    status.textContent = 'embedding...';
    const t = await teach(
      baseChoice(),
      classes.map((c) => ({ name: c.name.value, images: c.images })),
      {},
      (r) => {
        status.textContent = `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, validation accuracy ${(100 * r.valAccuracy).toFixed(1)}%`;
      },
    );
    status.textContent = `trained: validation accuracy ${(100 * t.head.valAccuracy).toFixed(1)}% (epoch ${t.head.bestEpoch} kept)`;
    if (download) URL.revokeObjectURL(download);
    download = URL.createObjectURL(new Blob([new Uint8Array(t.bytes)], { type: 'application/octet-stream' }));
    Object.assign($<HTMLAnchorElement>('teach-download'), { href: download, hidden: false });
  } catch (e) {
    status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function tryOn(images: WebImage[]): Promise<void> {
  try {
    const [r] = await tryTaught(images);
    $('teach-try-result').textContent = `${r!.label} (${(100 * Math.max(...r!.probabilities)).toFixed(1)}%)`;
  } catch (e) {
    $('teach-try-result').textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

export function initTeach(): void {
  const root = $('teach');
  if (!root) return;
  root.append(
    el('summary', { textContent: 'Teach: your own classes' }),
    el('p', {
      className: 'muted',
      textContent:
        'Name classes, add photos or webcam frames to each (at least 2), train a head on the model above (in a Web Worker), try it, download one .onnx file with your class names in it.',
    }),
    el('div', { id: 'teach-classes' }),
    el('div', { id: 'teach-webcam' }),
  );
  const add = el('button', { textContent: '+ class' });
  add.addEventListener('click', () => addClass());
  const go = el('button', { id: 'teach-train', textContent: 'Train' });
  go.addEventListener('click', () => void train());
  const tryFile = el('input', { type: 'file', accept: 'image/*' });
  tryFile.addEventListener('change', () => tryFile.files?.[0] && void tryOn([tryFile.files[0]]));
  const live = el('button', { textContent: 'try on the webcam' });
  live.addEventListener('click', async () => {
    // Live: a frame every half second while the page is open, at most 10 minutes.
    for (let i = 0; i < 1200; i++) {
      await tryOn([await webcamFrame()]);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  root.append(
    add,
    go,
    el('p', { id: 'teach-status', role: 'status' }),
    el('label', { textContent: 'Try a photo ' }),
    tryFile,
    live,
    el('p', { id: 'teach-try-result' }),
    el('a', { id: 'teach-download', download: 'custom.onnx', textContent: 'Download custom.onnx', hidden: true }),
  );
  addClass('class 1');
  addClass('class 2');
}

/** For the end-to-end tests: the functions the page uses. */
export const teachApi = { teach, tryTaught, trainInWorker, embedImages };
