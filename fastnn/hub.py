"""torch.hub's weight-file functions: get_dir / set_dir, download_url_to_file and
load_state_dict_from_url, in torch's own cache folder ($TORCH_HOME/hub, else
$XDG_CACHE_HOME/torch/hub, else ~/.cache/torch/hub), so a file torch already downloaded is
found offline, and one fastnn downloads serves torch too. Files are read by fastnn.load, which
reads torch.save's zip format. As torch, a file name's hash prefix (resnet18-f37072fd.pth:
the first hex digits of its SHA-256) is checked with check_hash=True; unlike torch, a file
found in the cache is checked too (a truncated or altered file is refused, not loaded)."""
import hashlib
import os
import re
import sys
import urllib.parse
import urllib.request

_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")  # torch.hub's HASH_REGEX
_hub_dir = None


def get_dir():
    if _hub_dir is not None:
        return _hub_dir
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return os.path.join(os.path.expanduser(torch_home), "hub")


def set_dir(d):
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _check_prefix(digest, hash_prefix):
    if hash_prefix is not None and not digest.startswith(hash_prefix):
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """url saved as dst, through a temporary file beside it (removed on any failure), with a
    tqdm progress bar; the SHA-256 must start with hash_prefix when one is given."""
    from tqdm.auto import tqdm
    dst = os.path.expanduser(os.fspath(dst))
    part = dst + ".partial"
    digest = hashlib.sha256()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "fastnn.hub"})
        with urllib.request.urlopen(request, timeout=60) as response, open(part, "wb") as f:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, disable=not progress, unit="B", unit_scale=True,
                      unit_divisor=1024) as bar:
                while block := response.read(1 << 16):
                    f.write(block)
                    digest.update(block)
                    bar.update(len(block))
        _check_prefix(digest.hexdigest(), hash_prefix)
        os.replace(part, dst)
    finally:
        if os.path.exists(part):
            os.remove(part)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """The object saved at url (a state dict), downloaded once into model_dir
    (get_dir()/checkpoints by default) and read from there afterwards."""
    from fastnn.serialization import load
    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, name)
    match = _HASH_IN_NAME.search(name) if check_hash else None
    prefix = match.group(1) if match else None
    if not os.path.exists(cached):
        sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        download_url_to_file(url, cached, prefix, progress=progress)
    elif prefix is not None:
        _check_prefix(_sha256(cached), prefix)
    return load(cached, map_location=map_location, weights_only=weights_only)
