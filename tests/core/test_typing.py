"""The core's type hints are checked (mypy), so they stay true."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["app/domain", "app/hub", "app/client", "app/db/models.py", "app/db/engine.py",
           "app/db/types.py", "app/db/migrate.py", "app/bench", "app/demo",
           "telephony/line.py", "telephony/training.py", "telephony/scenarios.py",
           "ui/naming.py", "ui/bridge.py", "ui/controller.py", "ui/controllers",
           "app/db/migrations/frozen", "ui/desk.py", "ui/launch.py",
           "ui/login.py", "ui/main_window.py", "ui/shortcuts.py", "ui/tasks.py", "ui/models",
           "ui/widgets/call_bar.py", "ui/widgets/decision_form.py", "ui/widgets/dossier_form.py",
           "ui/widgets/search_panel.py", "ui/widgets/task_panel.py", "ui/widgets/timeline.py",
           "ui/widgets/training_panel.py", "ui/widgets/supervision.py",
           "ui/widgets/statistics.py", "app/stats/report_intent.py", "app/callback",
           "ui/widgets/callback_panel.py",
           "ui/widgets/import_dialog.py", "app/directory/desk_import.py",
           "ui/widgets/agenda_editor.py", "app/directory/agenda_desk.py", "app/interop",
           "app/directory/imports", "app/config", "app/audit", "app/cli/audit.py",
           "ui/widgets/audit_view.py", "ui/trust_dialog.py", "app/backup", "app/cli/hub.py",
           "app/cli/backup.py", "app/retention", "app/cli/purge.py", "app/recordings",
           "ui/recording_playback.py", "app/cli/bench_soak.py", "ui/wizard.py",
           "ui/wizard_pages.py", "telephony/audio", "app/cli/bench_audio.py"]
#: The caller's history and dossier search (issue 12, desk).
CHECKED += ["app/history", "app/cli/bench_history.py", "ui/caller_history.py",
            "ui/widgets/dossier_list.py", "ui/room_view.py", "ui/column_fit.py",
            "ui/screen_fit.py", "ui/palette.py"]
#: The packages (issue 11): resources lookup, the shared bundle list, the start-up bench.
CHECKED += ["app/resources.py", "installer/bundle.py", "installer/bench_start.py",
            "installer/make_icons.py", "tests/installer"]


def test_core_type_checks() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports",
                          "--python-version", "3.11", "--no-error-summary",
                          "--follow-imports", "silent",
                          "--cache-dir", str(ROOT / ".mypy_cache"), *CHECKED],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
