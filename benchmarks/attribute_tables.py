"""The attribute benchmark's tables and row bookkeeping, apart from its flags.

Kept flag-free so that tests (and other scripts) can import it beside another benchmark's
absl flags without a ``DuplicateFlagError``.
"""

# Paper figures (%, Tables 1-2 and Sec. 4.1), keyed by (task, dataset, attention): accuracy, correctness.
PAPER = {("attribute", "mref", "san"): (83.42, None), ("attribute", "mdist", "san"): (80.06, None),
         ("attribute", "mbg", "san"): (58.07, 0.15), ("attribute", "mref", "nctx"): (95.69, None),
         ("attribute", "mdist", "nctx"): (89.92, None), ("attribute", "mbg", "nctx"): (69.33, 0.28),
         ("attribute", "mbg", "ctx"): (None, 0.31), ("attribute", "mbg", "arnn"): (None, 0.42),
         ("inverse", "mbg", "arnn"): (72.77, 0.39), ("inverse", "mbg", "ctx"): (66.37, 0.24),
         ("inverse", "mbg", "nctx"): (40.15, 0.20)}


# Network variants a row may differ by: field -> (the default, what a row written before the
# field meant, run-directory suffix and table label when the field is not the default).
VARIANTS = {"batch_norm": (True, False, "_nobn", "no batch norm"),
            "head_query": (True, True, "_panhead", "PAN head, no query")}


def _variant(row_or_config, field):
    value = (row_or_config.get(field, VARIANTS[field][1]) if isinstance(row_or_config, dict)
             else getattr(row_or_config, field))
    return bool(value)


def variant_suffix(config):
    """``""`` for the default network, else e.g. ``"_nobn"``: keeps each variant's run apart."""
    return "".join(suffix for field, (default, _, suffix, _) in VARIANTS.items()
                   if _variant(config, field) != default)


def variant_label(row):
    """``""`` or e.g. ``" (no batch norm)"`` for a results row."""
    labels = [label for field, (default, _, _, label) in VARIANTS.items() if _variant(row, field) != default]
    return f" ({'; '.join(labels)})" if labels else ""


def merge_rows(older_rows, new_rows):
    """Rows keyed by (dataset, task, attention) and the :data:`VARIANTS` fields; a new row
    replaces the older one with the same key. Rows written before a key existed mean the
    attribute task and the variant values of :data:`VARIANTS`. Returns a list in first-seen order.
    """
    def key(row):
        return (row["dataset"], row.get("task", "attribute"), row["attention"]) + tuple(
            _variant(row, field) for field in VARIANTS)

    merged = {key(r): r for r in older_rows}
    merged.update({key(r): r for r in new_rows})
    return list(merged.values())


def format_tables(rows):
    """Markdown tables, one per data set: accuracy and correctness beside the paper's, and by scale."""
    from attention_rnn.training import scale_bin_names

    bins = scale_bin_names()
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        lines += ["", f"{dataset} ({rows[0]['task']} task): accuracy % (paper), mask correctness (paper), "
                      "accuracy % by target scale", "",
                  "| attention | epochs | accuracy | paper | correctness | paper | " + " | ".join(bins) + " |",
                  "|---|---|---|---|---|---|" + "---|" * len(bins)]
        for r in (r for r in rows if r["dataset"] == dataset):
            name = r["attention"] + variant_label(r)
            def pct(v):
                return "-" if v is None else f"{100 * v:.2f}"
            paper_acc = "-" if r["paper_accuracy"] is None else f"{r['paper_accuracy']:.2f}"
            paper_corr = "-" if r["paper_correctness"] is None else f"{r['paper_correctness']:.2f}"
            corr = "-" if r["correctness"] is None else f"{r['correctness']:.3f}"
            lines.append(f"| {name} | {r['epochs']} | {pct(r['accuracy'])} | {paper_acc} | {corr} | "
                         f"{paper_corr} | " + " | ".join(pct(r["accuracy_by_scale"][b]) for b in bins) + " |")
        notes = {r["note"] for r in rows if r["dataset"] == dataset and r["note"]}
        lines += sorted(notes)
    return "\n".join(lines)
