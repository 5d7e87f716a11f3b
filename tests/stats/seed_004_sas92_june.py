"""Seed 004 (SAS 92), June: "Décisions d'orientation vers RDV SAS" and "RDV SAS réalisés"
per postal code, transcribed; rows outside the Hauts-de-Seine are departments."""

from __future__ import annotations

#: (postal code, commune, INSEE, decisions, appointments seen there)
ROWS: tuple[tuple[str, str, str, int, int], ...] = (
    ("92160", "Antony", "92002", 8, 5),
    ("92600", "Asnières-sur-Seine", "92004", 20, 7),
    ("92220", "Bagneux", "92007", 11, 7),
    ("92270", "Bois-Colombes", "92009", 5, 9),
    ("92100", "Boulogne-Billancourt", "92012", 10, 30),
    ("92340", "Bourg-La-Reine", "92014", 3, 0),
    ("92290", "Chatenay-Malabry", "92019", 10, 2),
    ("92320", "Chatillon", "92020", 5, 5),
    ("92370", "Chaville", "92022", 4, 0),
    ("92140", "Clamart", "92023", 12, 15),
    ("92110", "Clichy", "92024", 13, 12),
    ("92700", "Colombes", "92025", 18, 3),
    ("92400", "Courbevoie", "92026", 17, 2),
    ("92260", "Fontenay-aux-Roses", "92032", 6, 1),
    ("92380", "Garches", "92033", 1, 1),
    ("92230", "Gennevilliers", "92036", 19, 10),
    ("92130", "Issy-les-Moulineaux", "92040", 7, 9),
    ("92250", "La Garenne-Colombes", "92035", 6, 15),
    ("92350", "Le Plessis-Robinson", "92060", 6, 10),
    ("92300", "Levallois-Perret", "92044", 5, 2),
    ("92240", "Malakoff", "92046", 4, 6),
    ("92430", "Marnes-La-Coquette", "92047", 0, 0),
    ("92190", "Meudon", "92048", 5, 1),
    ("92360", "Meudon", "92048", 3, 3),
    ("92120", "Montrouge", "92049", 7, 3),
    ("92000", "Nanterre", "92050", 16, 6),
    ("92200", "Neuilly-sur-Seine", "92051", 6, 35),
    ("92800", "Puteaux", "92062", 7, 0),
    ("92500", "Rueil-Malmaison", "92063", 12, 3),
    ("92210", "Saint-Cloud", "92064", 2, 0),
    ("92330", "Sceaux", "92071", 8, 5),
    ("92310", "Sèvres", "92072", 3, 0),
    ("92150", "Suresnes", "92073", 9, 4),
    ("92170", "Vanves", "92075", 3, 0),
    ("92420", "Vaucresson", "92076", 2, 1),
    ("92410", "Ville-D'Avray", "92077", 2, 0),
    ("92390", "Villeneuve-la-Garenne", "92078", 7, 1),
)

#: (department row of the source, a commune of it where the patient was seen, count)
OUTSIDE: tuple[tuple[str, str, int], ...] = (
    ("75000 PARIS", "75056", 3),
    ("93000 Seine-Saint-Denis", "93048", 0),
    ("94000 VAL de MARNE", "94080", 1),
    ("91000 ESSONNE", "91228", 0),
    ("78000 Yveline", "78646", 2),
)

TOTAL_DECISIONS = 282
TOTAL_APPOINTMENTS = 219
