"""Seeded synthetic county data and messy township ledgers with exact ground truth (tests, demos,
benchmarks). Never imported by the production pipeline."""

from hub.synth.ledgers import write_business, write_dibao, write_disability, write_divisions, write_population
from hub.synth.population import County, make_county, sample_townships
from hub.synth.truth import Defects, Expected, Truth, TruthRow

__all__ = [
    "County",
    "Defects",
    "Expected",
    "Truth",
    "TruthRow",
    "make_county",
    "sample_townships",
    "write_business",
    "write_dibao",
    "write_disability",
    "write_divisions",
    "write_population",
]
