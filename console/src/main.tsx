import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeTokensFromFragment } from './session/auth';
import './styles.css';

// An OIDC sign-in comes back with its tokens in the URL fragment.
takeTokensFromFragment();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
