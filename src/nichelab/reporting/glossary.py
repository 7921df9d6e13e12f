"""The glossary: every term the reports use, in plain words, and its standalone HTML page.

Every run folder holds ``glossary.html`` beside ``report.html`` (written by
:func:`nichelab.runs.runner.write_run`); pages link to it with :func:`glossary_link`.
"""
from __future__ import annotations

import html as _html
from importlib import resources

from markupsafe import Markup

__all__ = ["GLOSSARY", "FILENAME", "render_glossary", "glossary_link", "anchor"]

#: The file name of the glossary page inside a run folder (pages link to it relatively).
FILENAME = "glossary.html"

#: (term, definition in plain words), grouped as a learner meets them: networks, units, experiments, measures.
GLOSSARY: tuple[tuple[str, str], ...] = (
    # ---- networks ---------------------------------------------------------------------------
    ("neural network", "A function built from layers of simple computing units; its numbers (weights and "
                       "biases) are adjusted during training so that its outputs match the labels of examples."),
    ("layer", "A group of units that all read the same input (the data, or the previous layer's outputs) and pass "
              "their outputs on together. Layers are numbered from the input: L1 is the first."),
    ("hidden layer", "Any layer between the input and the output; what it computes is not given by the task, the "
                     "network has to find it."),
    ("unit", "One computing element of a layer (a 'neuron'): it takes a weighted sum of its inputs, adds a bias and "
             "applies an activation function. Unit k of layer L is written L:k. In a convolutional layer a unit is "
             "a channel: the same small filter applied at every position of the image."),
    ("weights and bias", "A unit's weights say how much each input counts; its bias shifts the sum. Together they "
                         "are the unit's parameters, what training changes."),
    ("pre-activation", "A unit's weighted sum plus bias, before the activation function is applied."),
    ("ReLU", "Rectified linear unit: the activation function max(0, x). The unit passes its pre-activation on when "
             "it is positive and outputs 0 otherwise, so each unit is 'on' on one side of a line (a hyperplane) in "
             "its input space and 'off' on the other."),
    ("activation", "A unit's output for one input example (after the ReLU)."),
    ("logits", "The output layer's raw scores, one per class, before softmax turns them into probabilities. The "
               "logits layer is not a hidden layer."),
    ("MLP", "Multilayer perceptron: a network of fully connected (dense) layers; 'mlp 64-32' has hidden layers of "
            "64 and 32 units."),
    ("CNN", "Convolutional neural network: its layers slide small filters over the image, so a unit (channel) "
            "looks for the same pattern everywhere; 'cnn 8-16 fc=32' has two convolutional layers of 8 and 16 "
            "channels and a dense layer of 32 units."),
    ("block", "One layer together with what belongs to it (its activation and, in a CNN, pooling); transfer "
              "experiments copy and freeze whole blocks."),
    ("initialisation (init)", "The random numbers a network's weights start from before training. The seed picks "
                              "them; 'untrained network' means a network left at its initialisation."),
    ("seed", "The number that fixes every random choice of one training run (initial weights, batch order). "
             "Different seeds give different networks trained the same way; results are given over many seeds."),
    ("epoch", "One pass of training over every training example."),
    ("training / test data (split)", "A split divides the data: the network learns from the training part and is "
                                     "measured on the held-out test part it has never seen."),
    ("accuracy", "The share of examples whose most likely class, as the network says, is the right one."),
    ("gradient", "For each parameter, how fast the error would grow if the parameter grew; training moves every "
                 "parameter a small step against its gradient (gradient descent, SGD, Adam)."),
    ("float32 / float64", "Numbers stored with about 7 or about 16 significant digits. Rounding in the last digit "
                          "can make two computations that should be identical differ slightly."),
    # ---- what units do ----------------------------------------------------------------------
    ("split", "In the 4-blob lab: the way a ReLU unit divides the 4 classes into the ones it is on for and the "
              "ones it is off for, written like {0,1}|{2,3}. Seven ways exist to split 4 classes into two "
              "non-empty groups."),
    ("niche", "The job a unit takes in its layer: the split or feature it responds to that other units do not "
              "cover. 'Each unit finds its own niche' means units end up responding to different things."),
    ("outcome (distinct, duplicate, dead, other)", "What one seed of the lab ended with: distinct when its units "
                                                   "split the classes in different ways and every class is mostly "
                                                   "right; duplicate when two units make the same split; dead when a "
                                                   "unit is silent on every point; other for the rest."),
    ("niche exclusion", "The lab's experiment on why units take different niches: one trained unit is frozen, a "
                        "second unit is started from many random weights and trained beside it, and we count how "
                        "often it ends on the first unit's split, against a control in which the first unit is "
                        "silenced (its output set to 0)."),
    ("pull of a class", "How hard the errors on one class's points push a unit's line during training: the size of "
                        "that class's part of the gradient on the unit's incoming weights and bias."),
    ("specialisation", "A unit responding strongly to some inputs (a class, an edge, a part) and little to the "
                       "rest."),
    ("dead unit", "A ReLU unit whose output is 0 (or constant) on every evaluation example: it tells the next layer "
                  "nothing and no gradient reaches its weights, so it can no longer learn."),
    ("duplicate (near-duplicate)", "Two units doing the same job: in the lab, two units making the same split; in "
                                   "the width study, two live units whose activations are correlated at r >= the "
                                   "threshold (0.95 by default)."),
    ("frivolous unit", "A unit that can be switched off (set to 0) while costing almost no accuracy."),
    ("ablation", "Switching a unit off (setting its output to 0) and measuring how much accuracy is lost."),
    ("symmetry", "Units that start with identical weights get identical gradients, so in exact arithmetic they "
                 "stay identical forever; random initialisation breaks this symmetry."),
    ("tied units", "Units that share one set of weights (one parameter vector used by all of them), so they are "
                   "identical by construction on any computer; separate copies that start identical can instead be "
                   "split apart by rounding."),
    ("edge detector", "A first-layer unit whose preferred input is an oriented edge or grating (a stripe pattern): "
                      "measured by how sharply it prefers one orientation."),
    ("orientation selectivity", "How much more a unit responds to gratings of its best orientation than to the "
                                "other orientations (0: no preference, 1: only one orientation)."),
    ("part", "A piece of an object (an eye, a wheel, a window) drawn in the synthetic 'parts' images; a part "
             "detector is a unit whose strong activations fall on that part."),
    ("object / class detector", "A unit whose strong activations pick out the images of one class (a face, a "
                                "house)."),
    ("selectivity index", "(response to the best class − mean response to the other classes) divided by their sum: "
                          "0 means the unit answers all classes alike, 1 means it answers only one."),
    ("hierarchy ('edges, then parts, then objects')", "The textbook picture of a trained image network: early "
                                                       "layers respond to edges, middle layers to parts, late "
                                                       "layers to whole objects."),
    ("feature visualisation", "An input image optimised, starting from noise, to make one unit respond as strongly "
                              "as possible: a picture of what the unit looks for."),
    # ---- experiments -------------------------------------------------------------------------
    ("control", "The same measurement made where the effect cannot be (an untrained network, random frozen layers, "
                "scrambled labels), to see how much of a result any network would show."),
    ("untrained-network control", "The measurement repeated on the same network at its random initialisation. If "
                                  "the untrained network scores as high, the trait is not learned."),
    ("transfer learning", "Reusing layers trained on one task (A) for another task (B)."),
    ("task A / task B", "In the transfer study, B is the task we want to solve; A is another task whose trained "
                        "layers are reused."),
    ("baseA / baseB", "Networks trained from scratch on task A or on task B alone."),
    ("cut (n)", "Where a network is divided: the first n blocks are copied, the blocks above them are trained "
                "anew."),
    ("frozen layer", "A layer whose weights are kept fixed while the rest of the network trains: it passes its "
                     "inputs on exactly as it was copied (or initialised)."),
    ("AnB", "Transfer, frozen: the first n blocks copied from baseA and frozen (not trained further), the blocks "
            "above re-initialised and trained on B."),
    ("BnB (selffer)", "The same with baseB's own first n blocks: a network 'transferred' to itself (a selffer). It "
                      "shows what cutting and retraining costs on its own, without any change of task."),
    ("random control (random frozen layers)", "The first n blocks left at random initial values and frozen, the "
                                              "rest trained on B: what layers that learned nothing are worth."),
    ("fine-tuning ('+', AnB+ / BnB+)", "After copying, every block (the copied ones too) is trained further on B."),
    ("co-adaptation (fragile)", "Neighbouring layers that only work together: when a network is cut between them "
                                "and the upper part is retrained alone, it cannot find its old partner again and "
                                "accuracy drops (BnB below baseB in the middle layers)."),
    ("general / domain-specific layer", "A layer is general when its features serve another task as well as that "
                                        "task's own layer would (AnB close to baseB, better than random); it is "
                                        "specific to its task (domain-specific) when reusing it costs accuracy on "
                                        "the other task, more than its own or random layers do."),
    ("dissimilar source task", "A task A made from a different kind of image than B (e.g. part drawings for "
                               "digit B), as opposed to a similar one (other classes of the same image set)."),
    # ---- measures ----------------------------------------------------------------------------
    ("share", "A fraction of a count, given with the count (12 of 40) and a 95% confidence interval."),
    ("95% confidence interval (CI)", "A range of values compatible with what was measured: if the experiment were "
                                     "repeated many times, such ranges would contain the true value 95% of the "
                                     "time. Shares use the Wilson interval; means over seeds the t interval."),
    ("Welch t interval", "The 95% interval of a difference of two means (e.g. the mean selectivity of two "
                         "layers' units) that does not assume the two groups vary equally (Welch 1947)."),
    ("difference (separated intervals)", "Two measured values are called different only when the 95% interval of "
                                         "their difference excludes zero; otherwise the run cannot tell them apart. "
                                         "Differences of shares use the Newcombe interval (Newcombe 1998), "
                                         "differences of means the Welch t interval."),
    ("percentage points", "The difference of two percentages: 80% vs 75% is 5 points."),
    ("correlation (r)", "Pearson correlation: how closely two units' activations rise and fall together over the "
                        "same inputs (1: in lockstep, 0: unrelated)."),
    ("CKA", "Centered kernel alignment (Kornblith et al. 2019): a number between 0 and 1 saying how alike two "
            "layers' representations of the same inputs are, ignoring rotations and scale; 1 means the same up to "
            "rotation. Debiased CKA corrects the upward bias of few inputs."),
    ("linear probe", "A linear classifier (logistic regression) trained on a layer's activations to read out the "
                     "class: its test accuracy says how much class information that layer makes easy to read."),
    ("Network Dissection / IoU", "Network Dissection (Bau et al. 2017) labels a unit with the concept whose pixel "
                                 "mask best overlaps the unit's strongest-activation regions; the overlap is "
                                 "measured by IoU, intersection over union (0: no overlap, 1: the same region)."),
    ("AUPRC", "Area under the precision-recall curve: how well a unit's activation, used as a score, finds the "
              "images of one class (1: perfectly; the share of that class: no better than chance)."),
    ("participation ratio", "The effective number of dimensions of a layer's activations: (sum of the covariance "
                            "eigenvalues)^2 / sum of their squares. It equals the number of units only when all of "
                            "them vary independently and equally."),
    ("unit matching (layer identification)", "For each unit of one network, its best-correlated unit in another "
                                             "network trained from a different seed; layer identification asks "
                                             "whether a layer's best match in the other network is the same layer."),
    ("subspace", "The directions a layer's activations span. Two networks share a subspace when each unit of one "
                 "is (close to) a weighted sum of the units of the other, even if no single unit has a counterpart."),
    ("convergent learning", "Different seeds learning the same units or the same layer representations (Li et al. "
                            "2016)."),
    ("SVCCA", "Singular vector canonical correlation analysis (Raghu et al. 2017): each layer's activations are "
              "first reduced to their strongest directions (singular vectors), then CCA finds how well the two "
              "reduced layers line up; the result is the mean canonical correlation (0: nothing shared, 1: the same "
              "subspace)."),
    ("CCA (canonical correlation analysis)", "A method that finds, for two sets of measurements of the same inputs "
                                             "(two layers' activations), the pairs of weighted sums of each that "
                                             "correlate most; their correlations (canonical correlations, 0 to 1) "
                                             "say how much the two layers share, whatever the units' rotation."),
    ("PWCCA", "Projection-weighted CCA (Morcos et al. 2018): like SVCCA, the mean canonical correlation of two "
              "layers, but each canonical direction weighted by how much of the layer's activations it accounts "
              "for, so directions that carry little of the signal count little."),
    ("Procrustes (orthogonal Procrustes)", "Finding the rotation (and reflection) that brings one set of points "
                                           "(one layer's activations) as close as possible to another; what is left "
                                           "over measures how different the two are once rotations are ignored."),
    ("Hungarian matching (one-to-one match)", "A method (Kuhn 1955) that pairs every unit of one network with "
                                              "exactly one unit of the other so that the total correlation of the "
                                              "pairs is as high as possible; no unit is used twice."),
    ("superposition", "A layer storing more features than it has dimensions, by giving each feature its own "
                      "direction in the layer's space rather than its own unit; the directions overlap a little, so "
                      "features interfere slightly (Elhage et al. 2022)."),
    ("polysemantic", "A unit or hidden dimension is polysemantic when it responds to several unrelated features; "
                     "monosemantic when it carries one feature only."),
    ("sparsity (S)", "In the superposition study: the probability that a feature is zero in one input. At sparsity "
                     "0 every feature is active in every input; at 0.99 a feature is active in 1 input out of 100, "
                     "so features rarely occur together."),
    ("IQR (interquartile range)", "The spread of the middle half of the values: from the first quartile (25% of "
                                  "the values lie below it) to the third (75% lie below it). A box plot's box spans "
                                  "the IQR; its whiskers reach the most extreme values within 1.5 IQR of the box."),
    ("cross-entropy (loss)", "The training error of a classifier: minus the logarithm of the probability the "
                             "network gives to the right class, averaged over examples. 0 means certain and right; "
                             "guessing among k classes evenly gives log(k)."),
    ("nats", "The unit of a loss computed with the natural logarithm (base e); 1 nat is about 1.44 bits. Guessing "
             "evenly among 10 classes costs log(10) = 2.30 nats."),
    ("a.u. (arbitrary units)", "Marks an axis whose numbers have no physical unit and whose scale means nothing on "
                               "its own (a unit's activation, a gradient's size): compare values on the same axis, "
                               "not across studies."),
    ("Spearman correlation (ρ)", "Correlation of the ranks of two lists of numbers: +1 when they rise together, −1 "
                                 "when one falls as the other rises."),
)


def anchor(term: str) -> str:
    """The HTML id of ``term`` on the glossary page: ``"BnB (selffer)" -> "bnb-selffer"``."""
    out = "".join(c.lower() if c.isalnum() else "-" for c in term)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def glossary_link(text: str = "the glossary") -> Markup:
    """An HTML link to the run folder's glossary page, safe to put in a report's text.

    Returns
    -------
    markupsafe.Markup
        ``'Every term on this page is defined in plain words in <a href="glossary.html">the glossary</a>.'``;
        rendered as a link by the HTML template (a plain ``str`` elsewhere).
    """
    return Markup('Every term on this page is defined in plain words in <a href="{}">{}</a> (beside this '
                  'report in the run folder).').format(FILENAME, text)


def render_glossary() -> str:
    """The glossary as one self-contained HTML page (CSS inlined, no network), terms in :data:`GLOSSARY` order.

    Returns
    -------
    str
        The HTML page; each term is a ``<dt id="...">`` (see :func:`anchor`) followed by its ``<dd>``.
    """
    css = resources.files("nichelab.reporting").joinpath("templates/report.css").read_text()
    rows = "\n".join(f'<dt id="{anchor(t)}"><strong>{_html.escape(t)}</strong></dt><dd>{_html.escape(d)}</dd>'
                     for t, d in GLOSSARY)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>nichelab glossary</title>\n<style>\n{css}\ndd {{ margin: 0 0 .8rem 1.2rem; }}\n</style>\n"
            "</head>\n<body>\n<main>\n<h1>Glossary: the words nichelab's reports use</h1>\n"
            "<p>Each term in plain words, in the order a learner meets them: networks, what units do, the "
            "experiments, the measures.</p>\n<dl>\n" + rows + "\n</dl>\n</main>\n</body>\n</html>\n")
