#!/usr/bin/python3
"""torchvision's own export of the issue-26 models, for the paired bench (scripts/dense/latency.ts).

Run: /usr/bin/python3 apps/bench/scripts/dense/torchvision_export.py OUT_DIR HEIGHT WIDTH
Writes, per model (ssdlite320_mobilenet_v3_large, lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large):
  NAME.pth   the state_dict (seeded torchvision init; BN running statistics randomised so eval is not the identity)
  NAME.onnx  torch.onnx.export at opset 17 of the same model in eval mode: SSDLite with its own transform (resize
             to 320, normalise) and postprocessing (decode, thresholds, NMS) for one HEIGHT x WIDTH image in [0, 1];
             the segmenters on [1, 3, 520, 520] (normalised outside, as torchvision's eval does), output 'out'.
Nothing is downloaded (weights=None, weights_backbone=None).
"""
import os, sys, torch, torchvision
from torchvision.models import detection, segmentation

out, height, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(2)


def randomise_bn(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)


models = {
    'ssdlite320_mobilenet_v3_large': detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None),
    'lraspp_mobilenet_v3_large': segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
    'deeplabv3_mobilenet_v3_large': segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False),
}
for name, model in models.items():
    randomise_bn(model)
    model.eval()
    torch.save(model.state_dict(), f'{out}/{name}.pth')
    if name.startswith('ssdlite'):
        x = [torch.rand(3, height, width)]
        torch.onnx.export(model, (x,), f'{out}/{name}.onnx', opset_version=17, input_names=['image'],
                          output_names=['boxes', 'scores', 'labels'])
    else:
        class Out(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m(x)['out']
        torch.onnx.export(Out(model), torch.rand(1, 3, 520, 520), f'{out}/{name}.onnx', opset_version=17,
                          input_names=['images'], output_names=['out'])
    print(name, 'exported', flush=True)
