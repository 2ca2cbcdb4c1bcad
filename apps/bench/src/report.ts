/** The bench's findings as sections of docs/benchmarks.md: a table each, and the goals it checks. */
export interface Goal {
  readonly text: string;
  /** The measured ratio (or count) and the least that meets the goal. */
  readonly measured: number;
  readonly atLeast: number;
  readonly unit?: string;
}

export interface Section {
  readonly title: string;
  readonly intro: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
  readonly goals: readonly Goal[];
}

export const isMet = (goal: Goal) => goal.measured >= goal.atLeast;

const table = (head: readonly string[], rows: ReadonlyArray<readonly string[]>) => [
  `| ${head.join(" | ")} |`,
  `|${head.map(() => "---").join("|")}|`,
  ...rows.map((row) => `| ${row.join(" | ")} |`),
];

/** A ratio with two decimals and its unit; a count (unit "") as a whole number. */
const formatMeasured = (value: number, unit = "x") => (unit === "" ? Math.round(value).toLocaleString("en-US") : `${value.toFixed(2)}${unit}`);

const goalLine = (goal: Goal) =>
  `- ${isMet(goal) ? "met" : "**not met**"}: ${goal.text}: ${formatMeasured(goal.measured, goal.unit)} (goal: at least ${formatMeasured(goal.atLeast, goal.unit)})`;

export function renderSection(section: Section): string {
  return [`## ${section.title}`, "", section.intro, "", ...table(section.head, section.rows), "", ...section.goals.map(goalLine), ""].join("\n");
}

export function renderGoals(sections: readonly Section[]): string {
  const goals = sections.flatMap((section) => section.goals);
  return table(
    ["goal", "measured", "at least", ""],
    goals.map((goal) => [goal.text, formatMeasured(goal.measured, goal.unit), formatMeasured(goal.atLeast, goal.unit), isMet(goal) ? "met" : "**not met**"]),
  ).join("\n");
}
