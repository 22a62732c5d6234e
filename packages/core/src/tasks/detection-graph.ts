// `export --postprocess graph`: an SSD file of ours (raw heads, `mobilenet.detection` with postprocess 'none')
// gets its decode, thresholds and NMS as ONNX nodes (detection/graph-postprocess.ts), the anchors rebuilt from the
// metadata's generator, and its metadata says 'graph'. Here because it reads metadata and uses detection's maths.
import { appendSsdPostprocess } from '../detection/graph-postprocess.js';
import { defaultBoxes } from '../detection/anchors.js';
import { MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { detectionMetadata, readDetectionMetadata } from '../metadata/dense.js';

/**
 * The detector with its postprocessing in the graph (outputs detection_boxes, detection_scores, detection_labels,
 * detection_count; inputs score_threshold, iou_threshold, max_detections besides the images). `model` names the
 * model in errors. A graph without `mobilenet.detection`, or one whose postprocessing is already in it, is refused.
 */
export function withGraphPostprocess(graph: Graph, model = `model '${graph.name}'`): Graph {
  const meta = readDetectionMetadata(graph.metadata, model);
  if (!meta)
    throw new MobileNetError(
      'usage',
      model,
      "a detection model (metadata 'mobilenet.detection': ssdlite320-v3-large) for postprocessing in the graph",
      'a model without detection metadata',
    );
  if (meta.postprocess === 'graph')
    throw new MobileNetError(
      'usage',
      model,
      'raw head outputs (postprocess none)',
      'postprocessing already in the graph',
    );
  const anchors = defaultBoxes(meta.anchors, meta.grids, meta.inputSize);
  const appended = appendSsdPostprocess(
    graph,
    { anchors, inputSize: meta.inputSize, boxCoderWeights: meta.boxCoderWeights },
    { topkCandidates: meta.topkCandidates },
  );
  return { ...appended, metadata: { ...appended.metadata, ...detectionMetadata({ ...meta, postprocess: 'graph' }) } };
}
