/**
 * Accounts: registration and login with PBKDF2 password hashes, login sessions kept in the
 * database (so every mirror knows them), and accounts restored after their registration lost a
 * user-name collision with another mirror ({@link org.activemirroring.sample.account.LostRegistrations}).
 */
package org.activemirroring.sample.account;
