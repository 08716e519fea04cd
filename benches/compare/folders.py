"""The folder corpora (spamassassin, 20news: root/<label>/<file>) as every comparison script
reads them, so that all tools see the same texts in the same order. No third-party imports:
the scripts that measure a tool's memory import this in the tool's own process."""

import os


def load_folders(root, limit=None):
    """(labels, texts) from root/<label>/<file>, sorted by (label, file name), files decoded
    as UTF-8 with errors="replace"; with `limit`, only the first `limit` files of each label."""
    labels, texts = [], []
    for label in sorted(os.listdir(root)):
        label_dir = os.path.join(root, label)
        if not os.path.isdir(label_dir):
            continue
        for name in sorted(os.listdir(label_dir))[:limit]:
            with open(os.path.join(label_dir, name), "rb") as f:
                texts.append(f.read().decode("utf-8", errors="replace"))
            labels.append(label)
    return labels, texts
