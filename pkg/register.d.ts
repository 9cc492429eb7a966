// `ligature/register`: imported for its effect (`node --import ligature/register app.mjs`).
export {};
