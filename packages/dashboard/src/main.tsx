import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, signInWithLink } from './app.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// Once, outside React: the link's code works once.
const linkSignIn = signInWithLink();
createRoot(root).render(
  <StrictMode>
    <App linkSignIn={linkSignIn} />
  </StrictMode>,
);
