"""clash_obj: interned into both clash_a.pt and clash_b.pt; `utils` differs between them."""

import utils


class ClashObj:
    def __init__(self, label):
        self.label = label

    def who(self):
        return utils.who()

    def name(self):
        return utils.NAME

    def label_and_name(self):
        return self.label + ":" + utils.NAME
