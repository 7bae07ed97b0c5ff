"""Vocabulary helpers for the toy tokenizer (interned into tokenizer.pt)."""

PAD = "<pad>"
UNK = "<unk>"
BOS = "<bos>"
EOS = "<eos>"
SPECIALS = [PAD, UNK, BOS, EOS]

DEFAULT_TEXT = "the quick brown fox jumps over the lazy dog"


def words(text):
    """Lower-cases and splits on whitespace."""
    return text.lower().split()


def build_vocab(text=DEFAULT_TEXT):
    """Specials first, then the words of `text` in first-seen order."""
    itos = list(SPECIALS)
    for w in words(text):
        if w not in itos:
            itos.append(w)
    return itos
