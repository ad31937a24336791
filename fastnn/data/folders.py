"""torchvision.datasets' generic data sets: ImageFolder (one directory per class) and FakeData
(random images, each from its own seed), with torchvision's items, attributes and errors."""
import os

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path):
    from PIL import Image
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


default_loader = pil_loader


def find_classes(directory):
    """The class directories of `directory`, sorted, and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None):
    """(path, class index) for every valid file under each class directory, in torchvision's
    order (classes sorted, then each directory walked with its entries sorted)."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if is_valid_file is None:
        def is_valid_file(path):
            return path.lower().endswith(tuple(extensions))
    samples, found = [], set()
    for name in sorted(class_to_idx):
        root_of_class = os.path.join(directory, name)
        if not os.path.isdir(root_of_class):
            continue
        for root, _, files in sorted(os.walk(root_of_class, followlinks=True)):
            for file in sorted(files):
                path = os.path.join(root, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found.add(name)
    empty = set(class_to_idx) - found
    if empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            message += f"Supported extensions are: {', '.join(extensions)}"
        raise FileNotFoundError(message)
    return samples


class DatasetFolder:
    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        self.root = os.fspath(root)
        self.loader, self.extensions = loader, extensions
        self.transform, self.target_transform = transform, target_transform
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file)
        self.targets = [target for _, target in self.samples]

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """root/<class>/<image>: items (PIL RGB image, class index) through the transforms."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples


class FakeData:
    """size random images: image i is randn(*image_size) and its label randint(num_classes)
    drawn after manual_seed(i + random_offset), the caller's generator state put back after,
    then made a PIL image (as torchvision's ToPILImage) for the transform."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = tuple(image_size), random_offset
        self.transform, self.target_transform = transform, target_transform

    def __getitem__(self, index):
        import fastnn
        from fastnn.data.transforms import ToPILImage
        if index >= len(self):
            raise IndexError(f"FakeData index out of range: {index} >= {len(self)}")
        state = fastnn.get_rng_state()
        fastnn.manual_seed(index + self.random_offset)
        image = fastnn.randn(*self.image_size)
        target = fastnn.randint(0, self.num_classes, size=(1,), dtype=fastnn.long)[0]
        fastnn.set_rng_state(state)
        image = ToPILImage()(image)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, int(target.item()) if hasattr(target, "item") else target

    def __len__(self):
        return self.size


__all__ = ["DatasetFolder", "ImageFolder", "FakeData", "IMG_EXTENSIONS", "default_loader",
           "find_classes", "make_dataset"]
