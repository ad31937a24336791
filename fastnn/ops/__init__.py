"""Differentiable ops: each a Function (forward/backward pair) and a snake_case entry point."""
