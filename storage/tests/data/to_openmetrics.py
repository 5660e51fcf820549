import sys
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.openmetrics.exposition import generate_latest
class C:
    def __init__(self, fams): self.fams = fams
    def collect(self): return self.fams
class R:
    def __init__(self, c): self.c = c
    def collect(self): return self.c.collect()
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
sys.stdout.write(generate_latest(R(C(fams))).decode())
