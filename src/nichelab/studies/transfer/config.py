"""Settings of the transfer study (Yosinski et al. 2014 at small scale; REFERENCES.md, "Transfer").

Light on purpose (no torch): the registry and ``--help`` import it. The task and model
texts are parsed in :meth:`TransferConfig.check` (importing the parsers then), so a bad task or
architecture is reported, by field, before any data is loaded.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ...errors import NichelabError
from ...options import Options, option
from ..base import Study
from ..common import SeedOptions, TrainOptions

__all__ = ["TransferConfig", "INIT_OFFSET", "CONDITIONS", "CONDITION_INFO", "TASK_SOURCES", "QUICK",
           "REF_SEED", "REF_UNTRAINED", "STUDY"]

#: The fresh (re-initialised) layers of every transfer cell of seed s start from init seed
#: ``INIT_OFFSET + s``: the same values in every condition and cut (a paired design), and
#: independent of the base networks' initialisation (seed s).
INIT_OFFSET = 100_000

#: The five transfer conditions: (source network, first n blocks frozen?).
CONDITION_INFO = {
    "BnB": ("B", True),        # selffer: first n blocks of baseB, frozen
    "BnB+": ("B", False),      # selffer, fine-tuned
    "AnB": ("A", True),        # transfer: first n blocks of baseA, frozen
    "AnB+": ("A", False),      # transfer, fine-tuned
    "random": (None, True),    # control: first n blocks at random initialisation, frozen
}
CONDITIONS = tuple(CONDITION_INFO)

#: Reference rows of the CKA comparison: baseB against baseB of the next seed, and against the
#: untrained network whose blocks the random control freezes.
REF_SEED = "baseB vs baseB (another seed)"
REF_UNTRAINED = "baseB vs untrained network"

#: Image sources a task text can start with (as :data:`nichelab.data.tasks.SOURCES`).
TASK_SOURCES = ("digits", "parts", "faces")

#: The ``quick`` setting: these values replace options left at their defaults.
QUICK = {"seeds": 2, "epochs": 8, "models": ("mlp 16-16-16", "cnn 4-8 fc=16"), "parts_per_class": 60,
         "batch_size": 64, "lr": 0.003}


@dataclass
class TransferConfig(TrainOptions, SeedOptions, Options):
    """The layer-by-layer transfer experiment on a target task B, from one or more source tasks A.

    Every field is declared once below (type, default, help, rule); ``nichelab run transfer``
    shows them as flags, ``sources`` and ``models`` in the singular as before (several values
    comma-separated). Seeds are ``first_seed .. first_seed + seeds - 1``.

    Task texts (:func:`nichelab.data.tasks.parse_task`) may hold commas themselves
    (``digits:0,2,4``, ``parts:face,house``): in a comma-separated ``sources`` string, an item
    that does not start a task (no ``:`` and no image-source name) continues the previous task's
    class list, so ``"digits:0,2,4,parts"`` is the two tasks ``digits:0,2,4`` and ``parts``.
    """

    sources: tuple[str, ...] = option(
        ("digits:0-4", "parts"), flag="--source",
        help="Source tasks A, comma-separated: digits:0-4, digits:0,2,4, parts, parts:face,house, faces. "
             "Same image source as the target = similar pair, another = dissimilar.")
    target: str = option("digits:5-9", help="Target task B (same syntax as the source tasks).")
    target_fraction: float = option(1.0, gt=0, le=1,
                                    help="Share of B's training set used, in (0, 1]; small shares are where "
                                         "transfer matters most.")
    models: tuple[str, ...] = option(("mlp 64-64-64", "cnn 16-32 fc=64"), flag="--model",
                                     help="Architectures, comma-separated (each with at least 2 hidden layers).")
    seeds: int = option(3, help="Seeds per cell; all cells with the same frozen layers train at once.",
                        ge=1, le=10_000_000)
    epochs: int = option(20, help="Training epochs (passes over the data).", ge=1, le=1_000_000)
    lr: float = option(0.002, help="Learning rate.", gt=0)
    batch_size: int = option(64, help="Minibatch size.", ge=1, le=10_000_000)
    init: Literal["glorot", "torch"] = option("glorot", help="glorot or torch.")
    test_fraction: float = option(0.3, gt=0, lt=1, help="Share of every task held out for testing.")
    split_seed: int = option(0, ge=0, le=2**32 - 1,
                             help="Seed of the splits, the target subsample and the parts images.")
    size: int | None = option(None, ge=4, le=4096,
                              help="Common image side in pixels (default: the target's own, 8 for digits).")
    parts_per_class: int = option(300, ge=2, le=100_000, help="Images per class generated for the parts images.")
    margin: float = option(0.02, ge=0, lt=1,
                           help="Accuracy difference (fraction; 0.02 = 2 points) below which the findings call "
                                "conditions equal; larger ones must also have a 95% interval over seeds that "
                                "excludes zero.")
    threads: int | None = option(1, ge=1, le=1024,
                                 help="Torch threads while training (1 is fastest for these small models).")
    quick: bool = option(False, help="A fast small setting: 2 seeds, 8 epochs, small models (options given "
                                     "explicitly, i.e. not left at their defaults, still apply on top).")

    def check(self) -> None:
        self.sources = join_tasks(self.sources)
        if self.quick:
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            for name, value in QUICK.items():
                if getattr(self, name) == defaults[name]:
                    setattr(self, name, value)
        self._check_tasks()
        self._check_models()

    def _check_tasks(self) -> None:
        from ...data.tasks import check_disjoint, parse_task
        specs = []
        for field, texts in (("sources", self.sources), ("target", (self.target,))):
            for text in texts:
                try:
                    specs.append(parse_task(text))
                except NichelabError as exc:
                    raise NichelabError(f"{field} {exc}", field=field) from None
        *sources, target = specs
        if len({str(s) for s in sources}) != len(sources):
            raise self.field_error("sources", "must differ", self.sources)
        for s in sources:
            try:
                check_disjoint(s, target)
            except NichelabError as exc:
                raise NichelabError(f"sources: {exc}", field="sources") from None

    def _check_models(self) -> None:
        from ...nn.spec import parse_spec
        specs = []
        for m in self.models:
            try:
                spec = parse_spec(m)
            except NichelabError as exc:  # about parse_spec's argument "model": this field is "models"
                raise exc.renamed("models") from None
            if len(spec.widths) + len(spec.fc) < 2:
                raise self.field_error("models", "must each have at least 2 hidden layers so that there are cuts "
                                       "between blocks to compare (e.g. 'mlp 64-64-64')", m)
            specs.append(str(spec))
        if len(set(specs)) != len(specs):
            raise self.field_error("models", "must be different architectures", self.models)



def join_tasks(items: tuple[str, ...]) -> tuple[str, ...]:
    """Task texts split at every comma, joined back into tasks.

    An item without ``:`` that is not an image-source name continues the previous task's class
    list: ``("digits:0", "2", "4", "parts") -> ("digits:0,2,4", "parts")``.
    """
    out: list[str] = []
    for item in items:
        head = item.split(":", 1)[0].strip().lower()
        if out and ":" not in item and head not in TASK_SOURCES:
            out[-1] = f"{out[-1]},{item}"
        else:
            out.append(item)
    return tuple(out)


STUDY = Study(
    "transfer", TransferConfig,
    question="Which layers are general, which specific? Layer-by-layer transfer (Yosinski et al. 2014).",
    description="Trains baseA on each source task and baseB on the target; for every cut n builds BnB, AnB "
                "(first n layers copied, frozen), their fine-tuned versions BnB+, AnB+, and a control with the "
                "first n layers random and frozen; reports test accuracy on B for every cell and seed, linear "
                "CKA between baseA's and baseB's layers, and which of the paper's effects show.")
