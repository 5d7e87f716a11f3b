"""The caller's history ("antériorités") and the dossier search.

When a call rings the desk asks the hub how many dossiers this number had lately and
what became of the last one; a reader of dossiers searches them by number, name, DRM
number and period; a new dossier can be attached to the patient of an earlier one.
Every dossier these reads return is written to the audit trail (app.audit).
"""
