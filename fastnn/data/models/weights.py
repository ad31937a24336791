"""torchvision.models' weight enums (torchvision.models._api): each member names a weight
file on download.pytorch.org, the preprocessing it expects and its metadata; get_state_dict()
loads it through fastnn.hub (torch's cache folder: a file torch already downloaded is used
offline). The builders take a member, its name as a string, or None."""
import functools
from dataclasses import dataclass, field
from enum import Enum

from fastnn import hub
from fastnn.data.presets import ImageClassification


@dataclass
class Weights:
    url: str
    transforms: object
    meta: dict = field(default_factory=dict)


class WeightsEnum(Enum):
    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weights class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        return hub.load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def imagenet(url, num_params, resize_size=256):
    """An ImageNet-1K classifier's weights: 224-pixel crops of images resized to resize_size.
    (torchvision's meta also lists the 1000 class names and accuracies; fastnn does not ship
    them: num_classes is 1000.)"""
    return Weights(url=url,
                   transforms=functools.partial(ImageClassification, crop_size=224,
                                                resize_size=resize_size),
                   meta={"num_params": num_params, "min_size": (1, 1), "num_classes": 1000})
