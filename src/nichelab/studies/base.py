"""The study protocol: a name, a Config, ``run(config, progress=None) -> Result``, and the Result base.

A study lives in ``nichelab/studies/<name>/``; its ``config.py`` declares ``STUDY = Study(...)`` and
the registry (:data:`nichelab.studies.STUDIES`) finds it there. Results are data: typed fields
only, :meth:`Result.to_dict` (the whole ``results.json``), :meth:`Result.tables` (pandas frames of
every table the report shows) and :meth:`Result.weights`; :meth:`Result.from_dict` reads them
back (see :func:`nichelab.runs.load_run`).
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable, ClassVar


__all__ = ["Study", "Result", "SeededResult", "SCHEMA_VERSION", "resolve"]

#: Version of the results.json envelope (bump when its layout changes).
SCHEMA_VERSION = 2


def resolve(target: str | Callable) -> Any:
    """``"package.module:attr"`` -> the object (imported on first use); callables pass through."""
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclasses.dataclass(frozen=True)
class Study:
    """A registered study.

    Attributes
    ----------
    name : str
        ``nichelab run NAME`` (or ``nichelab NAME`` when ``command`` is ``"top"``).
    Config : type
        The settings dataclass (fields declared with :func:`nichelab.options.option`).
    question : str
        The question the study answers (first line of ``--help``).
    description : str
        What it does, for ``--help``.
    command : {"run", "top"}
        Where the CLI puts it.
    arguments : tuple of str
        Config fields given as positional arguments on the command line (e.g. compare's A B).
    runner : str or callable, optional
        ``"module:function"`` of ``run(config, progress=None) -> Result``, imported when first
        run so that listing studies imports no torch. Default: ``run`` in the study's
        ``pipeline`` module.
    result : str or type, optional
        ``"module:Class"`` of the Result (for :func:`nichelab.runs.load_run`). Default: the
        Result subclass whose ``study`` is ``name``, in the study's ``result`` module if it has
        one, else in its ``pipeline`` module.
    """

    name: str
    Config: type
    question: str
    description: str = ""
    command: str = "run"
    arguments: tuple[str, ...] = ()
    runner: str | Callable | None = None
    result: str | type | None = None

    @property
    def package(self) -> str:
        """The study's package, e.g. ``nichelab.studies.lab``."""
        return self.Config.__module__.rsplit(".", 1)[0]

    def run(self, config=None, *, progress: Callable[[str, int, int], None] | None = None):
        """Run the study. This is the protocol every study's ``pipeline.run`` follows.

        ``pipeline.run(config, *, progress=None) -> Result`` takes the study's Config and returns
        its Result; it writes nothing (the runner, :func:`nichelab.runs.execute`, writes the run
        folder) and draws no figure.

        Parameters
        ----------
        config : Config, optional
            The study's settings (a :class:`nichelab.options.Options` dataclass, checked when
            built). Default: ``Config()``.
        progress : callable (stage: str, done: int, total: int) -> None, optional
            Called as work proceeds (the CLI draws its progress bar from it).

        Returns
        -------
        Result
            The study's :class:`Result` subclass: typed data only.

        Raises
        ------
        NichelabError
            Bad input that the config alone cannot check (a model that does not fit the data,
            an unreadable file), raised before any training.
        TypeError
            ``config`` is not an instance of the study's Config.
        """
        config = self.Config() if config is None else config
        if not isinstance(config, self.Config):
            raise TypeError(f"{self.name}.run expects a {self.Config.__name__}; got {type(config).__name__}")
        return resolve(self.runner or f"{self.package}.pipeline:run")(config, progress=progress)

    @property
    def Result(self) -> type:
        """The Result class (imported on first use)."""
        if self.result is not None:
            return resolve(self.result)
        import importlib.util
        where = "result" if importlib.util.find_spec(f"{self.package}.result") else "pipeline"
        module = importlib.import_module(f"{self.package}.{where}")
        found = [v for v in vars(module).values()
                 if isinstance(v, type) and issubclass(v, Result) and v.study == self.name]
        if len(found) != 1:
            raise TypeError(f"study {self.name!r}: expected one Result subclass with study={self.name!r} "
                            f"in {module.__name__}; found {len(found)}")
        return found[0]


def _default_for(annotation: str):
    """The default of a Result field declared without one (see :meth:`Result.__init_subclass__`)."""
    root = annotation.split("[", 1)[0].strip()
    if "None" in annotation or root not in ("dict", "list"):
        return None
    return dataclasses.field(default_factory=dict if root == "dict" else list)


@dataclasses.dataclass(repr=False)
class Result:
    """Base of every study result: typed data only.

    Subclasses are dataclasses whose fields are numbers, strings, numpy arrays, lists/dicts of
    those, or nested dataclasses; fields declared with ``metadata={"weights": True}`` hold arrays
    kept in ``weights.safetensors`` instead of ``results.json``. The envelope fields
    (``config``, ``timings``, ``provenance``) are common to all.

    Attributes
    ----------
    config : Options
        The settings the study ran with.
    timings : dict of str -> float
        Seconds per stage.
    provenance : dict
        ``versions``, ``created``, ``command`` (filled by the runner).
    """

    study: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        """Every subclass is a dataclass too (``repr=False``: the compact repr below is kept).

        A field declared without a default gets one from its type: an empty dict or list for
        ``dict``/``list`` types, else None; so ``layers: list[dict]`` needs no ``field(...)``.
        """
        super().__init_subclass__(**kwargs)
        for name, annotation in vars(cls).get("__annotations__", {}).items():
            if name not in vars(cls) and not str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                setattr(cls, name, _default_for(str(annotation)))
        dataclasses.dataclass(repr=False)(cls)

    #: Name of a ``dict[str, array]`` field saved to weights.safetensors under its own keys (no
    #: prefix), with the seed list as ``seeds`` (the layout most studies use); None: see weights().
    flat_weights: ClassVar[str | None] = None
    config: Any
    timings: dict = dataclasses.field(default_factory=dict)
    provenance: dict = dataclasses.field(default_factory=dict)

    # ---- data out ---------------------------------------------------------------------------
    def _own_fields(self):
        return [f for f in dataclasses.fields(self) if f.name not in ("config", "timings", "provenance")]

    def to_dict(self) -> dict:
        """The whole ``results.json``: the envelope, then the study's own fields.

        Envelope keys: ``schema_version``, ``study``, ``config``, ``versions``, ``timings``,
        ``command``, ``created``. Arrays become (nested) lists; NaN stays float NaN here and is
        written as ``null`` by :func:`nichelab.runs.jsonio.dumps`.
        """
        from .codec import to_data
        out = {"schema_version": SCHEMA_VERSION, "study": self.study, "config": to_data(self.config),
               "versions": self.provenance.get("versions", {}), "timings": dict(self.timings),
               "command": self.provenance.get("command", ""), "created": self.provenance.get("created", "")}
        for f in self._own_fields():
            if not f.metadata.get("weights"):
                out[f.name] = to_data(getattr(self, f.name))
        return out

    def weights(self) -> dict:
        """Arrays saved to ``weights.safetensors``, name -> array.

        Every field marked ``weights`` (a ``dict[str, array]``) is saved as ``field.key``, except
        the :attr:`flat_weights` field, saved under its own keys, with the seed list as ``seeds``
        (int64, from the ``seeds`` field).
        """
        import numpy as np
        out = {}
        for f in self._own_fields():
            value = getattr(self, f.name)
            if not f.metadata.get("weights") and f.name != self.flat_weights or value is None:
                continue
            if f.name == self.flat_weights:
                out.update(value)
            elif isinstance(value, dict):
                out.update({f"{f.name}.{k}": v for k, v in value.items() if v is not None})
            else:
                out[f.name] = value
        if self.flat_weights:
            out["seeds"] = np.asarray(getattr(self, "seeds"), dtype=np.int64)
        return out

    def tables(self) -> dict:
        """Every table the report shows, as ``{name: pandas.DataFrame}`` (override)."""
        return {}

    # ---- data in ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, weights: dict | None = None):
        """Rebuild a result from :meth:`to_dict` output (and :meth:`weights` output).

        Raises
        ------
        NichelabError
            ``data`` is for another study or schema version.
        """
        from ..errors import NichelabError
        if data.get("study") != cls.study:
            raise NichelabError(f"results.json is for study {data.get('study')!r}, not {cls.study!r}")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise NichelabError(f"results.json has schema_version {data.get('schema_version')!r}; this nichelab "
                                f"reads version {SCHEMA_VERSION}")
        import typing
        from .codec import from_data
        hints = typing.get_type_hints(cls)
        weights = dict(weights or {})
        if cls.flat_weights:
            weights.pop("seeds", None)
        kw = {"config": from_data(hints["config"], data["config"]), "timings": data.get("timings", {}),
              "provenance": {k: data.get(k) for k in ("versions", "command", "created")}}
        for f in dataclasses.fields(cls):
            if f.name in kw or not f.init:
                continue
            if f.metadata.get("weights") and f.name != cls.flat_weights:
                kw[f.name] = _weights_field(hints[f.name], f.name, weights)
            elif f.name in data:
                kw[f.name] = from_data(hints[f.name], data[f.name])
        if cls.flat_weights:
            prefixes = tuple(f"{f.name}." for f in dataclasses.fields(cls)
                             if f.metadata.get("weights") and f.name != cls.flat_weights)
            kw[cls.flat_weights] = {k: v for k, v in weights.items() if not k.startswith(prefixes or ("\0",))}
        return cls(**kw)

    # ---- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        from .codec import to_data
        cfg = ", ".join(f"{k}={v!r}" for k, v in list(to_data(self.config).items())[:6]
                        if not isinstance(v, (list, dict)) or len(str(v)) < 40)
        return f"<{type(self).__name__} {self.study}: {cfg}>"

    def _repr_html_(self) -> str:
        """The report, for a notebook cell (the one link from a result to its presentation)."""
        return importlib.import_module("nichelab.reporting").notebook_html(self)

    def summary(self) -> str:
        """The short answer in words (override)."""
        return ""


class SeededResult(Result):
    """Base of the studies that train networks over seeds: the fields they all hold.

    Attributes
    ----------
    seeds : list of int
        The seeds, in the order of axis 0 of every per-seed array and of the weights.
    views : dict (or the study's views dataclass)
        Figure-ready numbers (the figures draw these and compute nothing).
    params : dict of str -> (S, ...) array
        Weights of every seed (weights file, saved under their own names with ``seeds``; see
        :attr:`Result.flat_weights`).
    initial : dict of str -> (S, ...) array
        Initial weights, for studies that keep them (weights file, as ``initial.<name>``; empty
        otherwise).
    """

    flat_weights: ClassVar[str | None] = "params"
    seeds: list[int]
    views: dict
    params: dict = dataclasses.field(default_factory=dict, metadata={"weights": True})
    initial: dict = dataclasses.field(default_factory=dict, metadata={"weights": True})


def _weights_field(tp, name: str, weights: dict):
    prefix = name + "."
    if name in weights:
        return weights[name]
    items = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    return items if items else None
