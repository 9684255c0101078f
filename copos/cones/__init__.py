r"""Cones of symmetric matrices and their inner and outer approximations.

Inclusions (``k = n``; every arrow reverses under duality)::

    C^r ⊆ K^r ⊆ K^(r+1) ⊆ COP ⊆ O_m            (copositive side)
    CP_Delta(m) ⊆ CP ⊆ (K^(r+1))* ⊆ (K^r)* ⊆ DNN  (completely positive side)

with ``K^0 = S+ + N``, ``(K^0)* = DNN`` and ``C^0 = N``.  Every cone returns constraints for a
cvxpy (or PICOS) symmetric expression via :meth:`Cone.constraints` and knows :attr:`Cone.dual`.
"""

from copos.cones.base import Cone, Formulation, Membership, orthant_lift
from copos.cones.basic import DNN, PSD, SPN, CompletelyPositive, Copositive, Nonnegative
from copos.cones.membership import CopositivityResult, CPFactorization, cp_factorize, is_copositive
from copos.cones.parrilo import Parrilo, ParriloDual
from copos.cones.polya import DeKlerkPasechnik, DeKlerkPasechnikDual
from copos.cones.polyhedral import AtomCOP, AtomCP, SimplexGridCOP, SimplexGridCP

__all__ = [
    "DNN",
    "PSD",
    "SPN",
    "AtomCOP",
    "AtomCP",
    "CPFactorization",
    "CompletelyPositive",
    "Cone",
    "Copositive",
    "CopositivityResult",
    "DeKlerkPasechnik",
    "DeKlerkPasechnikDual",
    "Formulation",
    "Membership",
    "Nonnegative",
    "Parrilo",
    "ParriloDual",
    "SimplexGridCOP",
    "SimplexGridCP",
    "cp_factorize",
    "is_copositive",
    "orthant_lift",
]
