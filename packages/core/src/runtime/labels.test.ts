import { describe, expect, it } from 'vitest';
import { buildModel } from '../models/build.js';
import { metadataLabels, withLabels } from './labels.js';
import { modelInfo, graphIO } from '../session/model-info.js';

describe('class names in a model file', () => {
  const graph = buildModel({ arch: 'v3-small', width: 0.35, resolution: 32, classes: 3, weights: null }).graph;

  it('withLabels stores them as JSON in mobilenet.labels; modelInfo reads them back', () => {
    const named = withLabels(graph, ['cat', 'dog', 'bird'], 'pets.txt');
    expect(named.metadata['mobilenet.labels']).toBe('["cat","dog","bird"]');
    expect(graph.metadata['mobilenet.labels']).toBe('custom');
    expect(modelInfo(graphIO(named), 'pets.onnx').labels).toEqual(['cat', 'dog', 'bird']);
    expect(modelInfo(graphIO(graph), 'plain.onnx').labels[2]).toBe('class 2');
    expect(modelInfo(graphIO(named), 'pets.onnx', { labels: ['a', 'b', 'c'] }).labels).toEqual(['a', 'b', 'c']);
  });

  it('a wrong count, a non-string or bad JSON is refused naming the source; markers mean none', () => {
    expect(() => withLabels(graph, ['cat', 'dog'], 'pets.txt')).toThrow(
      'pets.txt: expected 3 class names (one per class of the model), received 2',
    );
    expect(() => metadataLabels({ 'mobilenet.labels': '["a", 1, "c"]' }, 3, 'm.onnx')).toThrow(
      "model 'm.onnx': metadata 'mobilenet.labels': label 2: expected a string, received number",
    );
    expect(() => metadataLabels({ 'mobilenet.labels': '["a", "b\\nc", "d"]' }, 3, 'm.onnx')).toThrow(
      'label 2: expected one line of text, received a control character',
    );
    expect(() => metadataLabels({ 'mobilenet.labels': '["a"' }, 3, 'm.onnx')).toThrow(
      "model 'm.onnx': metadata 'mobilenet.labels': expected a JSON array of class names, received 4 characters that do not parse",
    );
    for (const marker of ['custom', 'imagenet-1000', 'imagenet-1001'])
      expect(metadataLabels({ 'mobilenet.labels': marker }, 3, 'm.onnx')).toBeUndefined();
    expect(() => modelInfo(graphIO(graph), 'm.onnx', { labels: ['a'] })).toThrow(
      'option labels: expected 3 class names (one per class of the model), received 1',
    );
  });
});
