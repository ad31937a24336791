from fastnn.nn import functional, init, utils  # noqa: F401
from fastnn.nn.activations import (CELU, ELU, GELU, GLU, SELU, AlphaDropout,  # noqa: F401
                                   Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout,
                                   Hardshrink, Hardsigmoid, Hardswish, Hardtanh, Identity,
                                   LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU6, RReLU,
                                   Sigmoid, SiLU, Softmax, Softmax2d, Softmin, Softplus,
                                   Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from fastnn.nn.conv import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d,  # noqa: F401
                            ConvTranspose1d, ConvTranspose2d, MaxPool2d)
from fastnn.nn.layers import Bilinear, Flatten, Linear, ReLU, Sequential  # noqa: F401
from fastnn.nn.loss import CTCLoss, NLLLoss2d  # noqa: F401
from fastnn.nn.loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss,  # noqa: F401
                            CrossEntropyLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss,
                            KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, MultiLabelMarginLoss,
                            MultiLabelSoftMarginLoss,
                            MultiMarginLoss, NLLLoss, PairwiseDistance, PoissonNLLLoss,
                            SmoothL1Loss, SoftMarginLoss, TripletMarginLoss,
                            TripletMarginWithDistanceLoss)
from fastnn.nn.module import Module  # noqa: F401
from fastnn.nn.parameter import Buffer, Parameter  # noqa: F401
from fastnn.nn.containers import (ModuleDict, ModuleList, ParameterDict,  # noqa: F401
                                  ParameterList)
from fastnn.nn.normalization import (BatchNorm1d, CosineSimilarity, GroupNorm,  # noqa: F401
                                     InstanceNorm1d, InstanceNorm2d, LayerNorm,
                                     LocalResponseNorm, RMSNorm)
from fastnn.nn.pooling import (AdaptiveAvgPool1d, AdaptiveMaxPool1d,  # noqa: F401
                               AdaptiveMaxPool2d, AvgPool1d, LPPool1d, LPPool2d, MaxPool1d,
                               MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool3d)
from fastnn.nn.parallel import DataParallel  # noqa: F401
from fastnn.nn.resampling import (ChannelShuffle, Embedding, EmbeddingBag, Fold, PixelShuffle, PixelUnshuffle,  # noqa: F401
                                  Unflatten, Unfold, Upsample, UpsamplingBilinear2d,
                                  UpsamplingNearest2d)
from fastnn.nn.volumetric import (AdaptiveAvgPool3d, AdaptiveMaxPool3d,  # noqa: F401
                                  AvgPool3d, BatchNorm3d, CircularPad3d, ConstantPad3d, Conv3d,
                                  ConvTranspose3d, InstanceNorm3d, MaxPool3d, ReflectionPad3d,
                                  ReplicationPad3d, ZeroPad3d)
from fastnn.nn.padding import (CircularPad1d, CircularPad2d, ConstantPad1d,  # noqa: F401
                               ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                               ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from fastnn.nn.rnn import (GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell,  # noqa: F401
                           RNNCellBase)
from fastnn.nn.sync_batchnorm import SyncBatchNorm  # noqa: F401,E402
from fastnn.nn.lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d,  # noqa: F401
                            LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d,
                            LazyInstanceNorm1d, LazyInstanceNorm2d, LazyLinear)
from fastnn.nn.lazy import (LazyBatchNorm3d, LazyConv3d, LazyConvTranspose3d,  # noqa: F401
                            LazyInstanceNorm3d)
from fastnn.nn.parameter import UninitializedParameter  # noqa: F401,E402
from fastnn.nn.transformer import (MultiheadAttention, Transformer,  # noqa: F401,E402
                                   TransformerDecoder, TransformerDecoderLayer,
                                   TransformerEncoder, TransformerEncoderLayer)
from fastnn.nn import modules  # noqa: F401,E402  (torch.nn.modules.<file>.<Layer>)
from fastnn.nn import grad  # noqa: F401,E402  (torch.nn.grad: conv*_input, conv*_weight)
from fastnn.nn.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401,E402
