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


def merge_rows(older_rows, new_rows):
    """Rows keyed by (dataset, task, attention, batch_norm); a new row replaces the older one.

    Rows written before a key existed mean the attribute task and a network without batch
    normalisation. Returns a list in first-seen order.
    """
    key = ("dataset", "task", "attention", "batch_norm")
    before_key = {"task": "attribute", "batch_norm": False}
    merged = {tuple(r.get(k, before_key.get(k)) for k in key): r for r in older_rows}
    merged.update({tuple(r[k] for k in key): r for r in new_rows})
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
            name = r["attention"] + ("" if r.get("batch_norm", False) else " (no batch norm)")
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
