// Placeholder: replaced by the postgres test set-up (starts a throwaway server, provides its address).
export default function setup(): void {}
