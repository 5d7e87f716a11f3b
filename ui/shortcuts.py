"""Every keyboard shortcut of the desk, in one table (the F1 help shows it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    keys: str
    action: str  # name of a DeskWindow method
    text: str  # French description for the help


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("F2", "answer", "Décrocher l'appel qui sonne"),
    Shortcut("F3", "hangup", "Raccrocher (ou refuser l'appel qui sonne)"),
    Shortcut("F4", "transfer", "Transférer l'appel au niveau 2 (AMU ou SNP selon le dossier)"),
    Shortcut("Ctrl+M", "toggle_mute", "Couper / rétablir le micro (ligne SIP)"),
    Shortcut("Ctrl+P", "agent_menu", "État du poste : prêt, ou en pause avec un motif"),
    Shortcut("Ctrl+T", "ring_training", "Faire sonner un appel d'entraînement"),
    Shortcut("F6", "next_turn", "Entraînement : réplique suivante de l'appelant"),
    Shortcut("Alt+0", "priority_p0", "Priorité P0 – urgence vitale"),
    Shortcut("Alt+1", "priority_p1", "Priorité P1 – prioritaire"),
    Shortcut("Alt+2", "priority_p2", "Priorité P2 – non urgent"),
    Shortcut("Alt+3", "priority_p3", "Priorité P3 – différé"),
    Shortcut(
        "Ctrl+Return",
        "validate",
        "Transmettre / valider la décision / clôturer la recherche, selon le poste",
    ),
    Shortcut("F5", "take_next", "Prendre le dossier suivant de la file"),
    Shortcut("Ctrl+F", "search_slots", "Chercher des créneaux pour le dossier ouvert"),
    Shortcut(
        "Ctrl+R",
        "refresh_agendas",
        "Actualiser les agendas des éditeurs (créneaux FHIR) sans attendre la relecture programmée",
    ),
    Shortcut("F7", "call_doctor", "Appeler le médecin sélectionné dans la recherche"),
    Shortcut("F8", "close_current", "Clôturer le dossier"),
    Shortcut(
        "F12",
        "play_recording",
        "Écouter un enregistrement du dossier (médecin, superviseur) : "
        "choisir l'appel s'il y en a plusieurs ; encore F12 pour arrêter",
    ),
    Shortcut("F9", "move_track", "Basculer le dossier de filière (SNP ⇄ AMU)"),
    Shortcut("Ctrl+1", "focus_list", "Aller à la file / à la liste"),
    Shortcut("Ctrl+2", "focus_dossier", "Aller au dossier (premier champ)"),
    Shortcut("Ctrl+3", "focus_decision", "Aller à la décision"),
    Shortcut("F10", "open_statistics", "Statistiques du mois (superviseur, gestionnaire CPTS)"),
    Shortcut("F11", "open_agendas", "Agendas des effecteurs : créneaux, plages, absences"),
    Shortcut(
        "Ctrl+E",
        "export_dossier",
        "Exporter le dossier ouvert (message RS-EDA du Hub Santé, RDV au format FHIR du SAS)",
    ),
    Shortcut(
        "Ctrl+Shift+S",
        "platform_search",
        "Ouvrir la recherche de la plateforme nationale SAS pour le dossier ouvert (navigateur)",
    ),
    Shortcut(
        "Ctrl+Shift+R",
        "attach_appointment",
        "Rattacher au dossier ouvert le rendez-vous choisi dans « Rendez-vous reçus »",
    ),
    Shortcut("Ctrl+I", "open_import", "Importer l'annuaire ou des créneaux (CSV, .ics, FHIR)"),
    Shortcut(
        "Ctrl+Shift+A",
        "open_wizard",
        "Assistant de configuration du poste : hub, ligne "
        "SIP, casque (appliqué au prochain démarrage)",
    ),
    Shortcut("F1", "show_help", "Afficher cette aide"),
)
EXTRA_HELP = (
    ("Tab / Maj+Tab", "Champ suivant / précédent"),
    ("Alt + lettre soulignée", "Aller au champ (Nom, Prénom, Commune, Motif…)"),
    ("Entrée dans une file", "Prendre le dossier sélectionné"),
    ("Flèches", "Se déplacer dans les listes"),
    ("Ctrl+H", "Antériorités de l'appelant (nombre affiché à la sonnerie)"),
    ("Ctrl+J", "Rattacher le dossier en cours au même patient"),
    ("Ctrl+Maj+F", "Rechercher un dossier (n°, nom, n° DRM, période)"),
)
