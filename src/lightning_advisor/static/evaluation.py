"""Placeholder: being written."""
from lightning_advisor.static.checks import Check

CHECK = Check(codes=(), candidates=lambda ctx: (), examine=lambda ctx, node, options: ())
