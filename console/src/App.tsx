// Signed out: the sign-in page. Signed in: the console. An expired session
// (the API refused the token and it could not be refreshed) signs out with a notice.

import { useEffect, useState } from 'react';
import { setSessionExpiredHandler } from './api/client';
import { loadTokens } from './api/tokens';
import { SignIn } from './pages/SignIn';
import { signOut } from './session/auth';
import { SignedIn } from './SignedIn';

export function App() {
  const [signedIn, setSignedIn] = useState(() => loadTokens() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    setSessionExpiredHandler(() => {
      setSignedIn(false);
      setNotice('Your session has expired. Please sign in again.');
    });
    return () => setSessionExpiredHandler(null);
  }, []);

  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <SignedIn
      onSignOut={() => {
        void signOut();
        setSignedIn(false);
        setNotice('You have signed out.');
      }}
    />
  );
}
