"""Settings programs write (torch.backends.cudnn.benchmark = True); no effect on a CPU."""
enabled = False
benchmark = False
deterministic = False


def is_available():
    return False
