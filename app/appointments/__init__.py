"""Appointments made in a doctor's own agenda and their fate (the SAS guide's INT_R03)."""
