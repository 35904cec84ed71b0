// Placeholder: replaced by the redis test set-up (starts a throwaway server, provides its address).
export default function setup(): void {}
