"""slow_mod: a pure-Python busy loop for load-balancing tests (slow_counter.pt)."""


class SlowCounter:
    def __init__(self, modulus):
        self.modulus = modulus

    def work(self, n):
        acc = 0
        m = self.modulus
        for i in range(n):
            acc = (acc * 31 + i) % m
        return acc
