// The Detect / Segment section of the page: its controls, the photo the page shows (event 'demo:image' from
// main.ts) or the webcam's frames, and the canvas the boxes or the mask are drawn on. window.demo.dense exposes
// runDense for tests. One run at a time; the webcam loop takes the next frame only when a result is drawn.
import { type DenseChoice, type DenseTask, drawResult, runDense, summary } from './dense-mode.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const section = $('dense');
section.innerHTML = `
  <h2>Detect and segment</h2>
  <label>Task <select id="dense-task"><option value="detect">Detect (SSDLite320, COCO)</option><option value="segment">Segment (LRASPP, VOC)</option></select></label>
  <label>Score threshold <input id="dense-threshold" type="number" min="0" max="1" step="0.05" value="0.5" /></label>
  <label>Most boxes <input id="dense-max" type="number" min="1" max="300" value="20" /></label>
  <label>Seed <input id="dense-seed" type="number" value="0" min="0" /></label>
  <label class="file">or your .onnx <input id="dense-onnx" type="file" accept=".onnx" /></label>
  <button id="dense-run" type="button">Run on the photo</button>
  <button id="dense-webcam" type="button">Webcam</button>
  <p class="muted">Built here with seeded weights unless you give an .onnx (<code>mobilenet export --arch ssdlite320-v3-large --weights ssdlite.pth</code>): seeded boxes and classes mean nothing. Decoding and the postprocessing (NMS, the mask's resize) run on workers.</p>
  <p id="dense-status" role="status"></p>
  <p id="dense-error" role="alert" hidden></p>
  <canvas id="dense-canvas"></canvas>`;

let photo: { blob: Blob; name: string } | undefined;
let busy = Promise.resolve();
let stream: MediaStream | undefined;

function choice(): DenseChoice {
  const threshold = Number($<HTMLInputElement>('dense-threshold').value);
  const file = $<HTMLInputElement>('dense-onnx').files?.[0];
  return {
    task: $<HTMLSelectElement>('dense-task').value as DenseTask,
    seed: Number($<HTMLInputElement>('dense-seed').value) || 0,
    ...(file && { file }),
    ...(Number.isFinite(threshold) && { scoreThreshold: threshold }),
    maxDetections: Number($<HTMLInputElement>('dense-max').value) || 20,
  };
}

function show(error: string | null): void {
  $('dense-error').hidden = error === null;
  $('dense-error').textContent = error ?? '';
}

/** The photo (or a frame) through the task, drawn; section.dataset.state says 'busy', 'done' or 'error'. */
function run(source: () => Promise<{ image: ImageBitmap; name: string }>): Promise<void> {
  busy = busy.then(async () => {
    section.dataset.state = 'busy';
    show(null);
    const c = choice();
    try {
      const { image, name } = await source();
      $('dense-status').textContent = `${c.task === 'detect' ? 'Detecting' : 'Segmenting'} ${name}...`;
      const { result, ms } = await runDense(c, image);
      drawResult($<HTMLCanvasElement>('dense-canvas'), image, image.width, image.height, result);
      $('dense-status').textContent = `${name}: ${summary(result)} (${ms.toFixed(0)} ms, model and postprocessing)`;
      section.dataset.state = result.ok ? 'done' : 'error';
      if (!result.ok) show(result.error);
    } catch (e) {
      show((e as Error).message);
      section.dataset.state = 'error';
    }
  });
  return busy;
}

const fromPhoto = async () => {
  if (!photo) throw new Error('Pick a photo above first.');
  return { image: await createImageBitmap(photo.blob), name: photo.name };
};

window.addEventListener('demo:image', (e) => {
  photo = (e as CustomEvent<{ blob: Blob; name: string }>).detail;
});
$('dense-run').addEventListener('click', () => void run(fromPhoto));

/** The webcam: frames one after the other, each as soon as the previous one is drawn, until pressed again. */
$('dense-webcam').addEventListener('click', async () => {
  if (stream) {
    for (const t of stream.getTracks()) t.stop();
    stream = undefined;
    $('dense-webcam').textContent = 'Webcam';
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (e) {
    return show(`No webcam: ${(e as Error).message}`);
  }
  $('dense-webcam').textContent = 'Stop webcam';
  const video = document.createElement('video');
  video.srcObject = stream;
  video.muted = true;
  await video.play();
  while (stream) await run(async () => ({ image: await createImageBitmap(video), name: 'webcam' }));
});

Object.assign(window, { denseDemo: { runDense, run: () => run(fromPhoto) } });
