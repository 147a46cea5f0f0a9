"""The reference for `jumys bench rules`: the same three rules (B3 social-job subsidy, B2 youth practice,
D3 relocation subsidy) in OpenFisca, vectorised with NumPy, for N synthetic people on one date.

    python3 -m venv /tmp/ofvenv && /tmp/ofvenv/bin/pip install openfisca-core
    /tmp/ofvenv/bin/python bench/openfisca_rules.py --count 1000000

Prints `persons/s: <number>` as its last line, measured from building the simulation with the inputs to
having all three results (parameters and variables are defined before the clock starts)."""
import argparse
import time

import numpy as np
from openfisca_core import entities, parameters, periods, taxbenefitsystems
from openfisca_core.indexed_enums import Enum
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.variables import Variable

Person = entities.build_entity(key="person", plural="persons", label="Person", is_person=True)
MONTH = periods.DateUnit.MONTH


class MoveType(Enum):
    within_district = "within district"
    within_region = "within region"
    other_region = "other region"


class wage(Variable):
    value_type = float
    entity = Person
    definition_period = MONTH


class placement_month(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH


class family_members(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH


class move_type(Variable):
    value_type = Enum
    possible_values = MoveType
    default_value = MoveType.within_district
    entity = Person
    definition_period = MONTH


class social_job_subsidy(Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    reference = "B3"

    def formula(person, period, parameters):
        p = parameters(period).social_job
        w = person("wage", period)
        m = person("placement_month", period)
        return np.select(
            [m <= 6, m <= 9, m <= 12],
            [np.minimum(w * p.band1_percent / 100, p.band1_cap),
             np.minimum(w * p.band2_percent / 100, p.band2_cap),
             np.minimum(w * p.band3_percent / 100, p.band3_cap)],
            0)


class youth_practice_subsidy(Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    reference = "B2"

    def formula(person, period, parameters):
        p = parameters(period)
        m = person("placement_month", period)
        return np.where(m <= p.youth_practice.months, p.youth_practice.monthly_mci * p.monthly_calculation_index, 0)


class relocation_subsidy(Variable):
    value_type = float
    entity = Person
    definition_period = MONTH
    reference = "D3"

    def formula(person, period, parameters):
        p = parameters(period).relocation
        mci = parameters(period).monthly_calculation_index
        move = person("move_type", period)
        n = person("family_members", period)
        head = np.select([move == MoveType.within_district, move == MoveType.within_region], [p.within_district_head, p.within_region_head], p.other_region_head)
        member = np.select([move == MoveType.within_district, move == MoveType.within_region], [p.within_district_member, p.within_region_member], p.other_region_member)
        return (head + n * member) * mci


def values(v):
    return {"values": {"2011-01-01": v}}


class JumysTBS(taxbenefitsystems.TaxBenefitSystem):
    def __init__(self):
        super().__init__([Person])
        self.parameters = parameters.ParameterNode("", data={
            "monthly_calculation_index": {"values": {"2020-04-01": 2778, "2021-01-01": 2917, "2022-01-01": 3063, "2022-04-01": 3180}},
            "youth_practice": {"months": values(6), "monthly_mci": values(17.2)},
            "social_job": {"band1_percent": values(50), "band1_cap": values(26000), "band2_percent": values(30), "band2_cap": values(15600),
                           "band3_percent": values(15), "band3_cap": values(7800)},
            "relocation": {"within_district_head": values(10), "within_district_member": values(5), "within_region_head": values(25),
                           "within_region_member": values(15), "other_region_head": values(50), "other_region_member": values(35)},
        })
        for v in (wage, placement_month, family_members, move_type, social_job_subsidy, youth_practice_subsidy, relocation_subsidy):
            self.add_variable(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--period", default="2021-05")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    wages = rng.integers(50_000, 500_001, a.count).astype(float)
    months = rng.integers(1, 14, a.count)
    moves = rng.integers(0, 3, a.count)
    families = rng.integers(0, 6, a.count)
    tbs = JumysTBS()
    start = time.perf_counter()
    sim = SimulationBuilder().build_default_simulation(tbs, count=a.count)
    sim.set_input("wage", a.period, wages)
    sim.set_input("placement_month", a.period, months)
    sim.set_input("family_members", a.period, families)
    sim.set_input("move_type", a.period, np.array(["within_district", "within_region", "other_region"])[moves])
    total = 0.0
    for v in ("social_job_subsidy", "youth_practice_subsidy", "relocation_subsidy"):
        total += float(sim.calculate(v, a.period).sum())
    elapsed = time.perf_counter() - start
    print(f"people: {a.count}, period: {a.period}, path: OpenFisca {__import__('openfisca_core').__version__ if hasattr(__import__('openfisca_core'), '__version__') else ''} + NumPy {np.__version__}")
    print(f"total of the three subsidies: {total:.2f} KZT (floating point)")
    print(f"seconds: {elapsed:.3f}")
    print(f"persons/s: {a.count / elapsed:.0f}")


if __name__ == "__main__":
    main()
