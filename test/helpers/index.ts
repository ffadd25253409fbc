export * from './netns.js';
export * from './wait.js';
