"""A toy word-level tokenizer (interned into tokenizer.pt)."""

from .vocab import BOS, EOS, PAD, SPECIALS, UNK, build_vocab, words


class Tokenizer:
    def __init__(self, text=None):
        self.itos = build_vocab(text) if text is not None else build_vocab()
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.unk_id = self.stoi[UNK]
        self.bos_id = self.stoi[BOS]
        self.eos_id = self.stoi[EOS]

    def encode(self, text):
        return [self.stoi.get(w, self.unk_id) for w in words(text)]

    def decode(self, ids):
        skip = {self.stoi[PAD], self.bos_id, self.eos_id}
        return " ".join(self.itos[i] for i in ids if i not in skip)

    def vocab_size(self):
        return len(self.itos)

    def __call__(self, text, add_special=False):
        ids = self.encode(text)
        if add_special:
            ids = [self.bos_id] + ids + [self.eos_id]
        return ids
