"""Interactive charts: Vega-Lite specs (built with Altair), their JavaScript, and static export.

The page inlines the Vega, Vega-Lite and vega-embed JavaScript once, as bundled by
``vl_convert.javascript_bundle()`` (Vega-Lite, Satyanarayan et al. 2017; vl-convert). Bundling
takes seconds, so the bundle is cached in memory and on disk (``$NICHELAB_CACHE`` or
``~/.cache/nichelab``), keyed by the vl-convert version: only the first page on a machine pays.

Static export (:func:`export_chart`) renders a spec to PNG, SVG or PDF with vl-convert, with no
browser.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ..errors import NichelabError

__all__ = ["OKABE_ITO", "vega_bundle", "spec_with_data", "export_chart", "FORMATS", "axis", "script_json"]

#: Okabe-Ito colours (as in :mod:`nichelab.reporting.style`, repeated to keep this module matplotlib-free).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FORMATS = ("png", "svg", "pdf")
_BUNDLE: str | None = None


def _cache_dir() -> Path:
    return Path(os.environ.get("NICHELAB_CACHE") or Path.home() / ".cache" / "nichelab")


def _finite(value):
    """``value`` with NaN and infinities replaced by None (JSON null), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def script_json(value) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element (no ``</``; NaN/inf as null)."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a diverged seed's NaN: drawn as missing
        text = json.dumps(_finite(value), separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript as one script (``window.vegaEmbed`` etc.).

    Returns
    -------
    str
        JavaScript, safe to inline in a ``<script>`` element.

    Notes
    -----
    Made by ``vl_convert.javascript_bundle()``; cached in this process and on disk.
    """
    global _BUNDLE
    if _BUNDLE is None:
        import vl_convert as vlc
        version = getattr(vlc, "__version__", "") or vlc.get_vega_version()
        path = _cache_dir() / f"vega-bundle-{version}-{vlc.get_vega_version()}.js"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = vlc.javascript_bundle().replace("</script", "<\\/script")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
            except OSError:  # a read-only home: keep it in memory only
                pass
        _BUNDLE = text
    return _BUNDLE


def spec_with_data(chart) -> dict:
    """The chart's spec with its named datasets put back (a complete, stand-alone Vega-Lite spec)."""
    spec = dict(chart.spec)
    if chart.datasets:
        spec["datasets"] = {**spec.get("datasets", {}), **chart.datasets}
    return spec


def export_chart(chart, path: str | Path, fmt: str = "png", scale: float = 2.0) -> Path:
    """Write ``chart`` (a :class:`~nichelab.reporting.model.Chart`) as a static file with vl-convert.

    Parameters
    ----------
    chart : Chart
    path : str or Path
        File to write (its suffix is replaced by ``fmt``).
    fmt : {"png", "svg", "pdf"}, default "png"
    scale : float, default 2.0
        Pixel scale of PNG output (2 = twice the on-screen size).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    NichelabError
        An unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise NichelabError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    import vl_convert as vlc
    spec = spec_with_data(chart)
    path = Path(path).with_suffix("." + fmt)
    if fmt == "png":
        path.write_bytes(vlc.vegalite_to_png(spec, scale=scale))
    elif fmt == "svg":
        path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    else:
        path.write_bytes(vlc.vegalite_to_pdf(spec))
    return path


def axis(title: str, **kw) -> dict:
    """An axis with a title and legible labels (12 px titles, 11 px labels)."""
    return {"title": title, "titleFontSize": 12, "labelFontSize": 11, **kw}
