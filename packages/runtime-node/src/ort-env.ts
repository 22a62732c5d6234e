// onnxruntime-node 1.30 starts a telemetry client with each environment, which writes '.ses' and an empty
// 'mat-debug-PID.log' into TMPDIR on every run and tries to upload. onnxruntime reads ORT_DISABLE_TELEMETRY when
// its first session is created, so setting it here, before any session, keeps TMPDIR clean. A user who set it
// keeps their value. Every module of this package that uses onnxruntime imports this file first.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export {};
