"""The End of day page: today's counts by service and by insurance answer, and the recorded CSV export.

Nothing leaves the device without this explicit action; the export is
recorded with who made it (kiosk.services.desk.export_csv).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout

from kiosk.services import desk
from kiosk.store import Database, views
from ui.common import Label, T, TButton, TLabel, tr
from ui.console.page import Page, Shell, row
from ui.console.queue import BHYT_WORDS
from ui.ops import Op


class DayPage(Page):
    def __init__(self, shell: Shell, export_dir: Path):
        super().__init__(shell)
        self.export_dir = export_dir
        lay = QVBoxLayout(self)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        self.heading = TLabel(tr("End of day"), "heading", name="heading")
        self.total = TLabel("", "body", name="total", align=left)
        self.by_service = Label("body", name="by_service", align=left)
        self.by_bhyt = Label("body", name="by_bhyt", align=left)
        self.export = TButton(tr("Export today's list (CSV)"), name="export")
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.heading)
        lay.addWidget(self.total)
        lay.addLayout(row(self.by_service, self.by_bhyt))
        lay.addStretch(1)
        lay.addWidget(self.export)
        lay.addWidget(self.message)
        self.export.clicked.connect(self.export_day)

    def forget(self) -> None:
        self.by_service.clear()
        self.by_bhyt.clear()

    def refresh(self) -> None:
        def done(counts: desk.DayCounts) -> None:
            if self.session is None:
                return
            self.say(self.total, tr("Visits today: {count}"), count=counts.visits)
            labels = {s.code: s.label(self.lang) for s in self.shell.services}
            self.by_service.setText("\n".join(f"{labels.get(k, k)}: {v}" for k, v in counts.by_service.items()))
            self.by_bhyt.setText("\n".join(f"{T(self.lang, BHYT_WORDS[k])}: {v}" for k, v in counts.by_bhyt.items()))
        Op(lambda db: desk.end_of_day(db, views.today(db))).success(done).failure(lambda e: None).run(self.bridge)

    def export_day(self) -> None:
        if self.session is None:
            return
        staff_id, out_dir = self.session.staff_id, self.export_dir

        def job(db: Database) -> tuple[int, Path]:
            day = views.today(db)
            path = out_dir / f"visits-{day}.csv"
            return desk.export_csv(db, day, path, staff_id), path

        def done(result: tuple[int, Path]) -> None:
            self.say(self.message, tr("Exported {rows} visit(s) to {path}; the export is recorded."),
                     rows=result[0], path=str(result[1]))
        Op(job).success(done).failure(self.refused).run(self.bridge)
