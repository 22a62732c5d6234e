// @mobilenet/runtime-node switches onnxruntime-node's telemetry off when it loads (its ort-env.ts says why: it writes
// files into TMPDIR on every run). onnxruntime reads the setting when its first session is created, so every module
// of this package that uses onnxruntime imports this file first: its sessions then start with telemetry off too,
// even when nothing else of runtime-node was loaded yet.
import '@mobilenet/runtime-node';
