"""Bench-only model code for the zoo (bench/make_zoo_models.py), interned into its archives.

LSTMTagger: a part-of-speech-tagger-shaped model, token ids -> per-token tag scores. Its
graph takes ONNX Runtime about 0.1 ms: what a call costs around the engine run decides it.
"""

import torch.nn as nn


class LSTMTagger(nn.Module):
    def __init__(self, vocab=1000, embed=32, hidden=64, tags=17):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, tags)

    def forward(self, ids):
        y, _ = self.lstm(self.embed(ids))
        return self.head(y).log_softmax(-1)
