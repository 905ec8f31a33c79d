"""The one shape every fitted model of the workbook has (lifelines / scikit-learn style).

``Model(settings...).fit(data)`` returns the model itself; what the fit learnt sits in attributes
whose names end in ``_`` (``n_``, ``estimable_``, ``warnings_`` ...); :attr:`summary` is a
DataFrame a reader can look at (one row per trait, stage, factor or quartile); ``plot(ax=None)``
draws the model on a matplotlib Axes (a new figure when ``ax`` is None) by calling a function of
the analysis's ``plots.py``, so that no compute module imports matplotlib.

A subclass sets ``self.summary_`` in ``fit`` and implements ``plot``. Asking an unfitted model for
its summary raises :class:`NotFittedError`, which says to call ``fit`` first.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["Estimator", "NotFittedError"]


class NotFittedError(AttributeError):
    """A model was asked for a fitted result before ``fit`` ran; the message says which model."""


class Estimator:
    """Base of the workbook's models: ``fit`` returns self, fitted attributes end in ``_``."""

    def fit(self, *args: Any, **kwargs: Any) -> "Estimator":  # pragma: no cover - every model overrides it
        raise NotImplementedError(f"{type(self).__name__}.fit")

    @property
    def fitted(self) -> bool:
        """True once ``fit`` has run (the model has attributes whose names end in ``_``)."""
        return any(name.endswith("_") and not name.startswith("_") for name in vars(self))

    @property
    def summary(self) -> pd.DataFrame:
        """What the model learnt, one row per item it estimates (set by ``fit`` as ``summary_``)."""
        if "summary_" not in vars(self):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call .fit(...) first")
        return self.summary_

    def plot(self, ax: Any = None) -> Any:  # pragma: no cover - every model overrides it
        """Draw the model on ``ax`` (a new figure when None) and return the Axes."""
        raise NotImplementedError(f"{type(self).__name__}.plot")
