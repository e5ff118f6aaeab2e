"""The attribute benchmark's tables and row bookkeeping, apart from its flags.

Kept flag-free so that tests (and other scripts) can import it beside another benchmark's
absl flags without a ``DuplicateFlagError``.
"""

from benchmarks.results import separator


# Paper figures (%, Tables 1-2 and Sec. 4.1), keyed by (task, dataset, attention): accuracy, correctness.
PAPER = {("attribute", "mref", "san"): (83.42, None), ("attribute", "mdist", "san"): (80.06, None),
         ("attribute", "mbg", "san"): (58.07, 0.15), ("attribute", "mref", "nctx"): (95.69, None),
         ("attribute", "mdist", "nctx"): (89.92, None), ("attribute", "mbg", "nctx"): (69.33, 0.28),
         ("attribute", "mbg", "ctx"): (None, 0.31), ("attribute", "mbg", "arnn"): (None, 0.42),
         ("inverse", "mbg", "arnn"): (72.77, 0.39), ("inverse", "mbg", "ctx"): (66.37, 0.24),
         ("inverse", "mbg", "nctx"): (40.15, 0.20)}


# Network and training variants a row may differ by: field -> run-directory suffix and table label
# when the field is not its default ("{}" stands for the value). The defaults, and what a row
# written before a field meant, are AttributeConfig's (a default config of the row's attention,
# and BEFORE_FIELD).
VARIANTS = {"batch_norm": ("_nobn", "no batch norm"),
            "head_query": ("_panhead", "PAN head, no query"),
            "learning_rate": ("_lr{}", "learning rate {}"),
            "warmup_epochs": ("_warmup{}", "{} warm-up epochs"),
            "warmup_learning_rate": ("_at{}", "warm-up at {}"),
            "units": ("_units{}", "{} attention units"),
            "mask_norm": ("_masknorm", "masks divided by their mean"),
            "seed": ("_seed{}", "seed {}")}  # data draw and initialisation: a replicate, not a variant


def _default(field, attention):
    """``field``'s value in the default config of ``attention`` (units depend on the type)."""
    from attention_rnn.config import AttributeConfig

    return getattr(AttributeConfig(attention=attention), field)


def _variant(row_or_config, field):
    from attention_rnn.config import AttributeConfig

    if isinstance(row_or_config, dict):
        return row_or_config.get(field, AttributeConfig.BEFORE_FIELD.get(
            field, _default(field, row_or_config["attention"])))
    return getattr(row_or_config, field)


def _changed(row_or_config):
    """(field, suffix, label) of each variant field that is not its default, the value filled in."""
    changed = []
    attention = row_or_config["attention"] if isinstance(row_or_config, dict) else row_or_config.attention
    for field, (suffix, label) in VARIANTS.items():
        value = _variant(row_or_config, field)
        if value != _default(field, attention):
            shown = f"{value:g}" if isinstance(value, float) else value
            changed.append((field, suffix.format(shown), label.format(shown)))
    return changed


def variant_suffix(config):
    """``""`` for the default network, else e.g. ``"_nobn"`` or ``"_lr0.0003"``: keeps each
    variant's run apart."""
    return "".join(suffix for _, suffix, _ in _changed(config))


def variant_label(row):
    """``""`` or e.g. ``" (no batch norm)"`` for a results row."""
    labels = [label for _, _, label in _changed(row)]
    if row.get("backgrounds") not in (None, "photos"):  # MBG on other than the offline default
        labels.append(f"{row['backgrounds']} backgrounds")
    return f" ({'; '.join(labels)})" if labels else ""


def merge_rows(older_rows, new_rows):
    """Rows keyed by (dataset, task, attention), the :data:`VARIANTS` fields and the MBG
    backgrounds; a new row
    replaces the older one with the same key, but keeps its training seconds when it has none
    (a row of ``--evaluate_only``, or of a run that had finished, trained nothing this call).
    Rows written before a key existed mean the attribute task and
    ``AttributeConfig.BEFORE_FIELD``'s values. Returns a list in first-seen order.
    """
    def key(row):
        return (row["dataset"], row.get("task", "attribute"), row["attention"], row.get("backgrounds")) + tuple(
            _variant(row, field) for field in VARIANTS)

    merged = {key(r): r for r in older_rows}
    for row in new_rows:
        older = merged.get(key(row), {})
        if row.get("train_seconds_this_call") is None and older.get("train_seconds_this_call") is not None:
            row = dict(row, train_seconds_this_call=older["train_seconds_this_call"])
        merged[key(row)] = row
    return list(merged.values())


def format_tables(rows):
    """Markdown tables, one per data set: accuracy and mask correctness (ink, and Liu et al.'s
    bounding box, which the paper's figure is beside) with the paper's, and accuracy by scale."""
    from attention_rnn.training import scale_bin_names

    bins = scale_bin_names()

    def number(value, scale=1.0, digits=3):
        return "-" if value is None else f"{scale * value:.{digits}f}"

    header = ("| attention | epochs | accuracy | paper | correctness, ink | correctness, box | paper | "
              + " | ".join(bins) + " |")
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        lines += ["", f"{dataset} ({rows[0]['task']} task): accuracy % (paper), mask correctness on the ink and "
                      "on its bounding box (paper), accuracy % by target scale", "",
                  header, separator(header)]
        for r in (r for r in rows if r["dataset"] == dataset):
            lines.append(f"| {r['attention'] + variant_label(r)} | {r['epochs']} | {number(r['accuracy'], 100, 2)} | "
                         f"{number(r['paper_accuracy'], digits=2)} | {number(r['correctness'])} | "
                         f"{number(r.get('correctness_box'))} | {number(r['paper_correctness'], digits=2)} | "
                         + " | ".join(number(r["accuracy_by_scale"][b], 100, 2) for b in bins) + " |")
        notes = {r["note"] for r in rows if r["dataset"] == dataset and r["note"]}
        lines += sorted(notes)
    return "\n".join(lines)
