"""The RPPS "Code profession" values the national import knows by name (no imports:
the command line's help shows them without loading the importer)."""

#: Professions imported unless told otherwise (``--professions``): those a SAS
#: orients patients to. Codes of the RPPS "Code profession" column.
DEFAULT_PROFESSIONS = frozenset({"10", "21", "40", "50", "60", "70"})
PROFESSION_NAMES = {
    "10": "médecin", "21": "pharmacien", "40": "chirurgien-dentiste", "50": "sage-femme",
    "60": "infirmier", "70": "masseur-kinésithérapeute", "80": "pédicure-podologue",
    "26": "audioprothésiste", "28": "opticien-lunetier", "91": "orthophoniste",
    "92": "orthoptiste", "93": "psychologue", "94": "ergothérapeute", "95": "diététicien",
    "96": "psychomotricien", "98": "manipulateur ERM",
}  # fmt: skip
