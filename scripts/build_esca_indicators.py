"""Writes data/esca-gold-2013.json (kept as a script so the set is easy to review and edit)."""
import json
from pathlib import Path

GROUPS = [
    ("structure", "Structure of the cluster", "Klyngens struktur", "Klyngens struktur", "Struttura del cluster"),
    ("management", "Management and cooperation", "Ledelse og samarbeid", "Ledelse og samarbejde", "Gestione e cooperazione"),
    ("financing", "Financing", "Finansiering", "Finansiering", "Finanziamento"),
    ("strategy", "Strategy, objectives and services", "Strategi, mål og tjenester", "Strategi, mål og ydelser", "Strategia, obiettivi e servizi"),
    ("achievements", "Achievements and recognition", "Resultater og anerkjennelse", "Resultater og anerkendelse", "Risultati e riconoscimenti"),
]
INDICATORS = [
    ("structure", "engagement", "Engagement of participants", "Deltakernes engasjement", "Deltagernes engagement", "Coinvolgimento dei partecipanti"),
    ("structure", "participant_structure", "Structure of participants", "Deltakerstruktur", "Deltagerstruktur", "Struttura dei partecipanti"),
    ("structure", "participants_involved", "Number of participants involved", "Antall involverte deltakere", "Antal involverede deltagere", "Numero di partecipanti coinvolti"),
    ("structure", "concentration", "Geographical concentration", "Geografisk konsentrasjon", "Geografisk koncentration", "Concentrazione geografica"),
    ("management", "maturity", "Maturity of the cluster management", "Klyngeledelsens modenhet", "Klyngeledelsens modenhed", "Maturità della gestione del cluster"),
    ("management", "human_resources", "Human resources of the management", "Ledelsens menneskelige ressurser", "Ledelsens menneskelige ressourcer", "Risorse umane della gestione"),
    ("management", "qualifications", "Qualifications of the team", "Teamets kvalifikasjoner", "Teamets kvalifikationer", "Qualifiche del team"),
    ("management", "upskilling", "Long-term upskilling plans", "Langsiktige kompetanseplaner", "Langsigtede kompetenceplaner", "Piani di formazione a lungo termine"),
    ("management", "staff_stability", "Staff stability", "Stabilitet i staben", "Stabilitet i personalet", "Stabilità del personale"),
    ("management", "company_stability", "Stability of company participation", "Stabil deltakelse fra bedriftene", "Stabil deltagelse fra virksomhederne", "Stabilità della partecipazione delle imprese"),
    ("management", "role_clarity", "Role clarity and stakeholder involvement in decisions", "Tydelige roller og interessenters medvirkning i beslutninger", "Klare roller og interessenters inddragelse i beslutninger", "Chiarezza dei ruoli e coinvolgimento degli stakeholder nelle decisioni"),
    ("management", "direct_contacts", "Direct contacts of the team with participants", "Teamets direkte kontakt med deltakerne", "Teamets direkte kontakt med deltagerne", "Contatti diretti del team con i partecipanti"),
    ("management", "cooperation", "Degree of cooperation within the cluster", "Grad av samarbeid i klyngen", "Grad af samarbejde i klyngen", "Grado di cooperazione nel cluster"),
    ("management", "innovation_system", "Integration into the innovation system", "Integrering i innovasjonssystemet", "Integration i innovationssystemet", "Integrazione nel sistema dell'innovazione"),
    ("financing", "prospects", "Financing prospects", "Finansieringsutsikter", "Finansieringsudsigter", "Prospettive di finanziamento"),
    ("financing", "private_funds", "Share of private funds", "Andel private midler", "Andel private midler", "Quota di fondi privati"),
    ("strategy", "strategy_process", "Strategy-building process", "Prosessen for strategiarbeid", "Processen for strategiarbejde", "Processo di definizione della strategia"),
    ("strategy", "strategy_documentation", "Documentation of the strategy", "Dokumentasjon av strategien", "Dokumentation af strategien", "Documentazione della strategia"),
    ("strategy", "implementation_plan", "Implementation plan", "Gjennomføringsplan", "Implementeringsplan", "Piano di attuazione"),
    ("strategy", "financial_control", "Financial control system", "System for økonomistyring", "System til økonomistyring", "Sistema di controllo finanziario"),
    ("strategy", "strategy_review", "Review of strategy and action plan", "Gjennomgang av strategi og handlingsplan", "Gennemgang af strategi og handlingsplan", "Revisione della strategia e del piano d'azione"),
    ("strategy", "performance_monitoring", "Performance monitoring of the management", "Resultatoppfølging av ledelsen", "Resultatopfølgning af ledelsen", "Monitoraggio delle prestazioni della gestione"),
    ("strategy", "strategy_goal", "Goal of the strategy", "Strategiens mål", "Strategiens mål", "Obiettivo della strategia"),
    ("strategy", "services", "Activities and services", "Aktiviteter og tjenester", "Aktiviteter og ydelser", "Attività e servizi"),
    ("strategy", "effectiveness", "Effectiveness of the management", "Ledelsens effektivitet", "Ledelsens effektivitet", "Efficacia della gestione"),
    ("strategy", "working_groups", "Working groups", "Arbeidsgrupper", "Arbejdsgrupper", "Gruppi di lavoro"),
    ("strategy", "communication", "Communication in the cluster", "Kommunikasjon i klyngen", "Kommunikation i klyngen", "Comunicazione nel cluster"),
    ("strategy", "internet_presence", "Internet presence", "Tilstedeværelse på nett", "Tilstedeværelse på nettet", "Presenza su internet"),
    ("achievements", "media_recognition", "Recognition in publications, press and media", "Omtale i publikasjoner, presse og medier", "Omtale i publikationer, presse og medier", "Riconoscimento in pubblicazioni, stampa e media"),
    ("achievements", "member_satisfaction", "Satisfaction of participants (member survey)", "Deltakernes tilfredshet (medlemsundersøkelse)", "Deltagernes tilfredshed (medlemsundersøgelse)", "Soddisfazione dei partecipanti (indagine tra i membri)"),
    ("achievements", "further_achievements", "Further achievements (name not public)", "Andre resultater (navnet er ikke offentlig)", "Andre resultater (navnet er ikke offentligt)", "Altri risultati (nome non pubblico)"),
]


def main():
    data = {
        "id": "esca-gold",
        "version": "2013",
        "title": {"en": "ESCA cluster management excellence (2013 criteria)", "nb": "ESCA cluster management excellence (kriterier fra 2013)",
                  "da": "ESCA cluster management excellence (kriterier fra 2013)", "it": "ESCA cluster management excellence (criteri 2013)"},
        "description": {"en": "The 31 quality indicators of the gold and silver labels. The thresholds are ILLUSTRATIVE (the real ones are not public): replace them with your own data."},
        "illustrative_thresholds": True,
        "groups": [{"id": g, "name": {"en": en, "nb": nb, "da": da, "it": it}} for g, en, nb, da, it in GROUPS],
        "indicators": [
            {"id": i, "group": g, "name": {"en": en, "nb": nb, "da": da, "it": it}, "scale": "points", "min": 0, "max": 5,
             "direction": "higher", "thresholds": {"green": 4, "yellow": 3}}
            for g, i, en, nb, da, it in INDICATORS
        ],
    }
    assert len(data["indicators"]) == 31
    Path(__file__).resolve().parents[1].joinpath("plugins", "portal_esca", "data", "esca-gold-2013.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
