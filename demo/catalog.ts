/**
 * Clinical content for synthetic patients: real codes (SNOMED CT, LOINC, RxNorm, CVX) with the
 * display text each system publishes, and realistic value ranges with UCUM units.
 */

export interface Code {
  readonly code: string;
  readonly display: string;
}

export interface ConditionEntry extends Code {
  /** Chronic problems stay active; acute ones resolve. */
  readonly chronic: boolean;
  /** RxNorm codes of drugs commonly prescribed for it. */
  readonly drugs: readonly string[];
}

export const CONDITIONS: readonly ConditionEntry[] = [
  { code: '44054006', display: 'Diabetes mellitus type 2', chronic: true, drugs: ['860975'] },
  {
    code: '38341003',
    display: 'Hypertensive disorder',
    chronic: true,
    drugs: ['314076', '197361', '310798'],
  },
  { code: '55822004', display: 'Hyperlipidemia', chronic: true, drugs: ['259255', '312961'] },
  { code: '195967001', display: 'Asthma', chronic: true, drugs: ['745679', '895994'] },
  {
    code: '13645005',
    display: 'Chronic obstructive lung disease',
    chronic: true,
    drugs: ['745679'],
  },
  { code: '49436004', display: 'Atrial fibrillation', chronic: true, drugs: ['855332'] },
  { code: '40930008', display: 'Hypothyroidism', chronic: true, drugs: ['966247'] },
  { code: '35489007', display: 'Depressive disorder', chronic: true, drugs: ['312938'] },
  { code: '197480006', display: 'Anxiety disorder', chronic: true, drugs: [] },
  { code: '396275006', display: 'Osteoarthritis', chronic: true, drugs: ['310965', '313782'] },
  { code: '73430006', display: 'Sleep apnea', chronic: true, drugs: [] },
  { code: '271737000', display: 'Anemia', chronic: true, drugs: [] },
  { code: '444814009', display: 'Viral sinusitis', chronic: false, drugs: ['313782'] },
  { code: '10509002', display: 'Acute bronchitis', chronic: false, drugs: ['313782'] },
  { code: '43878008', display: 'Streptococcal sore throat', chronic: false, drugs: ['834061'] },
  {
    code: '68566005',
    display: 'Urinary tract infectious disease',
    chronic: false,
    drugs: ['308182'],
  },
  { code: '65363002', display: 'Otitis media', chronic: false, drugs: ['308182'] },
  {
    code: '62106007',
    display: 'Concussion with no loss of consciousness',
    chronic: false,
    drugs: ['310965'],
  },
  { code: '44465007', display: 'Sprain of ankle', chronic: false, drugs: ['310965'] },
];

export interface DrugEntry extends Code {
  readonly dosage: string;
}

export const DRUGS: readonly DrugEntry[] = [
  {
    code: '860975',
    display: '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet',
    dosage: 'Take 1 tablet by mouth once daily with the evening meal',
  },
  {
    code: '314076',
    display: 'lisinopril 10 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth once daily',
  },
  {
    code: '197361',
    display: 'amlodipine 5 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth once daily',
  },
  {
    code: '310798',
    display: 'Hydrochlorothiazide 25 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth every morning',
  },
  {
    code: '259255',
    display: 'atorvastatin 80 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth at bedtime',
  },
  {
    code: '312961',
    display: 'Simvastatin 20 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth at bedtime',
  },
  {
    code: '745679',
    display: '200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler',
    dosage: 'Inhale 2 puffs every 4 to 6 hours as needed for wheezing',
  },
  {
    code: '895994',
    display: '120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler',
    dosage: 'Inhale 2 puffs twice daily',
  },
  {
    code: '855332',
    display: 'Warfarin Sodium 5 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth once daily, or as directed by the anticoagulation clinic',
  },
  {
    code: '966247',
    display: 'Levothyroxine Sodium 0.075 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth every morning before breakfast',
  },
  {
    code: '312938',
    display: 'Sertraline 100 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth once daily',
  },
  {
    code: '310965',
    display: 'Ibuprofen 200 MG Oral Tablet',
    dosage: 'Take 1 to 2 tablets by mouth every 6 hours as needed for pain',
  },
  {
    code: '313782',
    display: 'Acetaminophen 325 MG Oral Tablet',
    dosage: 'Take 2 tablets by mouth every 6 hours as needed for pain or fever',
  },
  {
    code: '834061',
    display: 'Penicillin V Potassium 250 MG Oral Tablet',
    dosage: 'Take 1 tablet by mouth four times daily for 10 days',
  },
  {
    code: '308182',
    display: 'Amoxicillin 250 MG Oral Capsule',
    dosage: 'Take 1 capsule by mouth three times daily for 7 days',
  },
];

export interface Measure extends Code {
  readonly unit: string;
  readonly mean: number;
  readonly sd: number;
  readonly decimals: number;
  /** A short name for people (Observation.code.text); the LOINC display otherwise. */
  readonly text?: string;
  readonly low?: number;
  readonly high?: number;
}

/** Vital signs of the FHIR vital-signs profile (LOINC codes and UCUM units it requires). */
export const VITALS = {
  heartRate: { code: '8867-4', display: 'Heart rate', unit: '/min', mean: 74, sd: 9, decimals: 0 },
  temperature: {
    code: '8310-5',
    display: 'Body temperature',
    unit: 'Cel',
    mean: 36.8,
    sd: 0.3,
    decimals: 1,
  },
  weight: { code: '29463-7', display: 'Body weight', unit: 'kg', mean: 78, sd: 14, decimals: 1 },
  height: { code: '8302-2', display: 'Body height', unit: 'cm', mean: 170, sd: 9, decimals: 1 },
  bmi: {
    code: '39156-5',
    display: 'Body mass index (BMI) [Ratio]',
    unit: 'kg/m2',
    mean: 0,
    sd: 0,
    decimals: 1,
  },
  systolic: {
    code: '8480-6',
    display: 'Systolic blood pressure',
    unit: 'mm[Hg]',
    mean: 124,
    sd: 13,
    decimals: 0,
  },
  diastolic: {
    code: '8462-4',
    display: 'Diastolic blood pressure',
    unit: 'mm[Hg]',
    mean: 79,
    sd: 8,
    decimals: 0,
  },
} as const satisfies Record<string, Measure>;

export const BP_PANEL: Code = {
  code: '85354-9',
  display: 'Blood pressure panel with all children optional',
};

/** UCUM units have a human display that differs from the code for a few. */
export const UNIT_DISPLAY: Readonly<Record<string, string>> = {
  '/min': 'beats/minute',
  Cel: 'C',
  'mm[Hg]': 'mmHg',
  'kg/m2': 'kg/m2',
  '10*3/uL': '10*3/uL',
  'm[IU]/L': 'mIU/L',
};

export interface LabPanel extends Code {
  readonly tests: readonly Measure[];
}

export const LAB_PANELS: readonly LabPanel[] = [
  {
    code: '51990-0',
    display: 'Basic metabolic panel - Blood',
    tests: [
      {
        code: '2345-7',
        display: 'Glucose [Mass/volume] in Serum or Plasma',
        text: 'Glucose',
        unit: 'mg/dL',
        mean: 98,
        sd: 14,
        decimals: 0,
        low: 70,
        high: 99,
      },
      {
        code: '2160-0',
        display: 'Creatinine [Mass/volume] in Serum or Plasma',
        text: 'Creatinine',
        unit: 'mg/dL',
        mean: 0.94,
        sd: 0.18,
        decimals: 2,
        low: 0.6,
        high: 1.3,
      },
      {
        code: '2951-2',
        display: 'Sodium [Moles/volume] in Serum or Plasma',
        text: 'Sodium',
        unit: 'mmol/L',
        mean: 140,
        sd: 2.2,
        decimals: 0,
        low: 136,
        high: 145,
      },
      {
        code: '2823-3',
        display: 'Potassium [Moles/volume] in Serum or Plasma',
        text: 'Potassium',
        unit: 'mmol/L',
        mean: 4.2,
        sd: 0.35,
        decimals: 1,
        low: 3.5,
        high: 5.1,
      },
      {
        code: '6299-2',
        display: 'Urea nitrogen [Mass/volume] in Blood',
        text: 'Urea nitrogen (BUN)',
        unit: 'mg/dL',
        mean: 14,
        sd: 4,
        decimals: 0,
        low: 7,
        high: 20,
      },
    ],
  },
  {
    code: '58410-2',
    display: 'CBC panel - Blood by Automated count',
    tests: [
      {
        code: '718-7',
        display: 'Hemoglobin [Mass/volume] in Blood',
        text: 'Hemoglobin',
        unit: 'g/dL',
        mean: 13.9,
        sd: 1.3,
        decimals: 1,
        low: 12,
        high: 17.5,
      },
      {
        code: '6690-2',
        display: 'Leukocytes [#/volume] in Blood by Automated count',
        text: 'White blood cells',
        unit: '10*3/uL',
        mean: 7.1,
        sd: 1.6,
        decimals: 1,
        low: 4.5,
        high: 11,
      },
      {
        code: '777-3',
        display: 'Platelets [#/volume] in Blood by Automated count',
        text: 'Platelets',
        unit: '10*3/uL',
        mean: 260,
        sd: 55,
        decimals: 0,
        low: 150,
        high: 400,
      },
      {
        code: '4544-3',
        display: 'Hematocrit [Volume Fraction] of Blood by Automated count',
        text: 'Hematocrit',
        unit: '%',
        mean: 41.5,
        sd: 3.8,
        decimals: 1,
        low: 36,
        high: 50,
      },
    ],
  },
  {
    code: '57698-3',
    display: 'Lipid panel with direct LDL - Serum or Plasma',
    tests: [
      {
        code: '2093-3',
        display: 'Cholesterol [Mass/volume] in Serum or Plasma',
        text: 'Total cholesterol',
        unit: 'mg/dL',
        mean: 192,
        sd: 32,
        decimals: 0,
        high: 200,
      },
      {
        code: '2571-8',
        display: 'Triglyceride [Mass/volume] in Serum or Plasma',
        text: 'Triglycerides',
        unit: 'mg/dL',
        mean: 138,
        sd: 45,
        decimals: 0,
        high: 150,
      },
      {
        code: '18262-6',
        display: 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay',
        text: 'LDL cholesterol',
        unit: 'mg/dL',
        mean: 112,
        sd: 28,
        decimals: 0,
        high: 130,
      },
      {
        code: '2085-9',
        display: 'Cholesterol in HDL [Mass/volume] in Serum or Plasma',
        text: 'HDL cholesterol',
        unit: 'mg/dL',
        mean: 52,
        sd: 12,
        decimals: 0,
        low: 40,
      },
    ],
  },
  {
    code: '24325-3',
    display: 'Hepatic function panel - Serum or Plasma',
    tests: [
      {
        code: '1742-6',
        display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
        text: 'ALT',
        unit: 'U/L',
        mean: 24,
        sd: 9,
        decimals: 0,
        high: 41,
      },
      {
        code: '1920-8',
        display: 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
        text: 'AST',
        unit: 'U/L',
        mean: 23,
        sd: 7,
        decimals: 0,
        high: 40,
      },
      {
        code: '1975-2',
        display: 'Bilirubin.total [Mass/volume] in Serum or Plasma',
        text: 'Total bilirubin',
        unit: 'mg/dL',
        mean: 0.7,
        sd: 0.25,
        decimals: 1,
        high: 1.2,
      },
    ],
  },
  {
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    tests: [
      {
        code: '4548-4',
        display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
        text: 'Hemoglobin A1c',
        unit: '%',
        mean: 5.8,
        sd: 0.8,
        decimals: 1,
        high: 5.6,
      },
    ],
  },
  {
    code: '3016-3',
    display: 'Thyrotropin [Units/volume] in Serum or Plasma',
    tests: [
      {
        code: '3016-3',
        display: 'Thyrotropin [Units/volume] in Serum or Plasma',
        text: 'TSH',
        unit: 'm[IU]/L',
        mean: 2.1,
        sd: 0.9,
        decimals: 2,
        low: 0.4,
        high: 4.5,
      },
    ],
  },
];

export const VACCINES: readonly Code[] = [
  { code: '140', display: 'Influenza, seasonal, injectable, preservative free' },
  {
    code: '208',
    display:
      'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose',
  },
  { code: '115', display: 'Tdap' },
  { code: '113', display: 'Td (adult) preservative free' },
  { code: '133', display: 'Pneumococcal conjugate PCV 13' },
  { code: '33', display: 'pneumococcal polysaccharide vaccine, 23 valent' },
  { code: '187', display: 'zoster vaccine recombinant' },
  { code: '08', display: 'Hep B, adolescent or pediatric' },
  { code: '62', display: 'HPV, quadrivalent' },
  { code: '03', display: 'MMR' },
];

export interface AllergyEntry extends Code {
  readonly category: 'food' | 'medication' | 'environment';
  readonly reactions: readonly Code[];
}

const HIVES: Code = { code: '247472004', display: 'Wheal (finding)' };
const RASH: Code = { code: '271807003', display: 'Eruption of skin (disorder)' };
const SNEEZING: Code = { code: '76067001', display: 'Sneezing (finding)' };
const ANAPHYLAXIS: Code = { code: '39579001', display: 'Anaphylaxis (disorder)' };
const DYSPNEA: Code = { code: '267036007', display: 'Dyspnea (finding)' };

export const ALLERGIES: readonly AllergyEntry[] = [
  {
    code: '91936005',
    display: 'Allergy to penicillin',
    category: 'medication',
    reactions: [HIVES, RASH],
  },
  {
    code: '91935009',
    display: 'Allergy to peanuts',
    category: 'food',
    reactions: [ANAPHYLAXIS, HIVES],
  },
  {
    code: '300913006',
    display: 'Shellfish allergy',
    category: 'food',
    reactions: [HIVES, DYSPNEA],
  },
  { code: '91930004', display: 'Allergy to eggs', category: 'food', reactions: [RASH] },
  {
    code: '419263009',
    display: 'Allergy to tree pollen',
    category: 'environment',
    reactions: [SNEEZING],
  },
  {
    code: '232347008',
    display: 'Dander (animal) allergy',
    category: 'environment',
    reactions: [SNEEZING, DYSPNEA],
  },
  {
    code: '232350006',
    display: 'House dust mite allergy',
    category: 'environment',
    reactions: [SNEEZING],
  },
];

export const PROCEDURES: readonly Code[] = [
  { code: '430193006', display: 'Medication reconciliation (procedure)' },
  { code: '171207006', display: 'Depression screening (procedure)' },
  { code: '73761001', display: 'Colonoscopy (procedure)' },
  { code: '399208008', display: 'Plain chest X-ray (procedure)' },
  { code: '24623002', display: 'Screening mammography (procedure)' },
  { code: '117015009', display: 'Throat culture (procedure)' },
  { code: '29303009', display: 'Electrocardiographic procedure (procedure)' },
  { code: '127783003', display: 'Spirometry (procedure)' },
];

export interface EncounterKind extends Code {
  readonly classCode: 'AMB' | 'EMER';
  readonly classDisplay: string;
  readonly minutes: number;
}

export const ENCOUNTER_KINDS: readonly EncounterKind[] = [
  {
    code: '185349003',
    display: 'Encounter for check up (procedure)',
    classCode: 'AMB',
    classDisplay: 'ambulatory',
    minutes: 30,
  },
  {
    code: '390906007',
    display: 'Follow-up encounter (procedure)',
    classCode: 'AMB',
    classDisplay: 'ambulatory',
    minutes: 20,
  },
  {
    code: '185345009',
    display: 'Encounter for symptom (procedure)',
    classCode: 'AMB',
    classDisplay: 'ambulatory',
    minutes: 20,
  },
  {
    code: '50849002',
    display: 'Emergency room admission (procedure)',
    classCode: 'EMER',
    classDisplay: 'emergency',
    minutes: 180,
  },
];
