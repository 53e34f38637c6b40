// Who is signed in: the agent and the session's CSRF token, from the login (or /api/auth/me)
// until the logout or the end of the session. Other modules read them through these functions.

var agent = null;
var csrf = "";
var whenEnded = function () {};
var agentListeners = [];

export function begin(session) {
  agent = Object.freeze(Object.assign({}, session.agent));
  csrf = session.csrf_token;
}

export function clear() {
  agent = null;
  csrf = "";
}

// The signed-in agent ({id, username, display_name, role, team}), or null.
export function currentAgent() { return agent; }
export function signedIn() { return !!agent; }
export function csrfToken() { return csrf; }

export function isSupervisor() {
  return !!agent && (agent.role === "supervisor" || agent.role === "admin");
}

export function isAdmin() { return !!agent && agent.role === "admin"; }

// The agent's own account was changed (by themselves, in the administration).
export function updateAgent(changes) {
  if (!agent) return;
  agent = Object.freeze(Object.assign({}, agent, changes));
  agentListeners.forEach(function (listener) { listener(agent); });
}

export function onAgentChanged(listener) { agentListeners.push(listener); }

// What to do when the server ends the session (a 401, or the live connection closed with 4401).
export function onEnded(handler) { whenEnded = handler; }
export function sessionEnded() { whenEnded(); }
