"""torch.__future__ (fastnn.__future__): the two module-conversion switches.

- swap_module_params_on_conversion: Module.to() / .float() / load_state_dict swap each
  parameter's contents with the converted tensor (utils.swap_tensors), so references held
  elsewhere see the new dtype. fastnn's conversions already change a parameter in place, which
  keeps its identity either way; the switch is kept for programs that set and read it.
- overwrite_module_params_on_conversion: a conversion makes new Parameter objects instead."""


class _Flags:
    swap = False
    overwrite = False


flags = _Flags()


def set_swap_module_params_on_conversion(value):
    flags.swap = bool(value)


def get_swap_module_params_on_conversion():
    return flags.swap


def set_overwrite_module_params_on_conversion(value):
    flags.overwrite = bool(value)


def get_overwrite_module_params_on_conversion():
    return flags.overwrite
