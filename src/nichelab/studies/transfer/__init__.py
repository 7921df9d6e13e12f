"""The transfer study: which layers are general, which specific? (Yosinski et al. 2014, small scale.)

``STUDIES["transfer"].run(TransferConfig()) -> TransferResult``. For every architecture: train
baseA (per source task) and baseB; for every cut n = 1..L-1 train BnB, BnB+, AnB, AnB+ and a
random-frozen control on B; measure test accuracy on B for every seed, and linear CKA between
baseA's and baseB's layers on B's inputs. See REFERENCES.md, "Transfer".
"""
from .config import CONDITIONS, INIT_OFFSET, QUICK, STUDY, TransferConfig

__all__ = ["TransferConfig", "CONDITIONS", "INIT_OFFSET", "QUICK", "STUDY", "run"]


def run(config: TransferConfig | None = None, *, progress=None):
    """Run the transfer study (see :func:`nichelab.studies.transfer.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
