"""torch.nn.modules' layout: fastnn.nn.modules.<file>.<Layer> is the same class as
fastnn.nn.<Layer>. Programs name layers by these paths in the allowlist of a weights_only
load (pytorch/examples word_language_model: torch.nn.modules.rnn.LSTM, ...) and in isinstance
checks; fastnn's own files are organised differently, so the submodules are made here from a
table of torch's files and the classes each holds."""
import sys
import types

from fastnn import nn as _nn
# torch's class of MultiheadAttention.out_proj, which torch keeps in linear.py
from fastnn.nn.transformer import NonDynamicallyQuantizableLinear

_LAYOUT = {
    "module": ["Module"],
    "activation": ["Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid",
                   "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU",
                   "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink",
                   "MultiheadAttention", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax",
                   "Softmax2d", "LogSoftmax"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "conv": ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "LazyConv1d",
             "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"],
    "linear": ["Identity", "Linear", "Bilinear", "LazyLinear"],
    "normalization": ["LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "LazyBatchNorm1d", "LazyBatchNorm2d"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "LazyInstanceNorm1d",
                     "LazyInstanceNorm2d"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"],
    "transformer": ["Transformer", "TransformerEncoder", "TransformerDecoder",
                    "TransformerEncoderLayer", "TransformerDecoderLayer"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "channelshuffle": ["ChannelShuffle"],
    "pooling": ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "LPPool1d",
                "LPPool2d", "MaxUnpool1d", "MaxUnpool2d"],
    "loss": ["L1Loss", "NLLLoss", "KLDivLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
             "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
             "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
             "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
             "TripletMarginWithDistanceLoss", "PoissonNLLLoss", "GaussianNLLLoss"],
    "flatten": ["Flatten", "Unflatten"],
    "padding": ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d",
                "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
                "ZeroPad1d", "ZeroPad2d"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "distance": ["PairwiseDistance", "CosineSimilarity"],
    "fold": ["Fold", "Unfold"],
}


_LAYOUT["linear"].append("NonDynamicallyQuantizableLinear")
_CLASSES = {name: getattr(_nn, name) for names in _LAYOUT.values() for name in names
            if hasattr(_nn, name)}
_CLASSES["NonDynamicallyQuantizableLinear"] = NonDynamicallyQuantizableLinear

for _file, _names in _LAYOUT.items():
    _module = types.ModuleType(f"{__name__}.{_file}", f"torch.nn.modules.{_file}'s classes")
    for _name in _names:
        if _name in _CLASSES:
            setattr(_module, _name, _CLASSES[_name])
    sys.modules[_module.__name__] = _module  # `import fastnn.nn.modules.rnn` works too
    globals()[_file] = _module
globals().update(_CLASSES)  # torch.nn.modules.Linear, as in torch
del _file, _names, _module, _name
